// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IAgentRegistry} from "../../../contracts/interfaces/IAgentRegistry.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";

/// @notice Registers agents, stakes, declares new daily volumes, requests partial and full unstakes (as agent or
/// operator), withdraws after the unbonding delay, slashes, and freezes/unfreezes, keeping its own model of every
/// agent's stake, pending withdrawal and unbonding deadline. A request made once the pending stake has matured pays
/// that stake to the operator first (the model does the same, from its own deadline). Needs SLASHER_ROLE on the
/// registry and GUARDIAN_ROLE on the HumanOverride.
contract StakeAccountingHandler is HandlerBase {
    uint256 internal constant FUNDING = 500_000 * AITBC;
    uint256 internal constant MAX_STAKE_PER_CALL = 60_000 * AITBC;

    address[] public candidates; // agent addresses, registered or not
    mapping(address agent => address operator) public operatorFor;
    mapping(address agent => uint256 agentId) public agentIdOf; // 0 while unregistered

    // Model of the registry, updated only from this handler's own arithmetic.
    mapping(address agent => uint256 stake) public ghostStake;
    mapping(address agent => uint256 pending) public ghostPending;
    mapping(address agent => uint256 time) public ghostWithdrawableAt; // when the pending stake matures
    uint256 public ghostSlashed; // everything the treasury must have received
    uint256 public ghostWithdrawn; // everything the operators must have received
    bool public ghostSlashAboveHalf;
    bool public ghostWrongPayout; // a withdrawal or request paid the operator other than the matured pending amount
    uint256 public ghostPaidByRequests; // matured stake paid out inside requestUnstake
    bool public ghostUnbondedDeclaration; // a declared volume accepted without its bond staked

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        uint256 count
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        for (uint256 i = 0; i < count; ++i) {
            address agent = address(uint160(0xA6E4700 + i));
            candidates.push(agent);
            operatorFor[agent] = address(uint160(0x0BE4700 + i));
        }
    }

    /// @notice Funds every candidate and registers and stakes the first `registered` of them (setUp only).
    function prepare(uint256 registered) external {
        for (uint256 i = 0; i < candidates.length; ++i) {
            address agent = candidates[i];
            _mintTo(agent, FUNDING / REWARD_RATE);
            vm.startPrank(agent);
            token.approve(address(registry), type(uint256).max);
            if (i < registered) {
                agentIdOf[agent] = registry.register(_registration(operatorFor[agent], 0));
                registry.stake(10 * MIN_STAKE);
                ghostStake[agent] = 10 * MIN_STAKE;
            }
            vm.stopPrank();
        }
    }

    function candidateCount() external view returns (uint256) {
        return candidates.length;
    }

    function register(uint256 seed, uint256 expectedDailyVolume) external syncTime {
        address agent = _pick(candidates, seed);
        if (agentIdOf[agent] != 0) return;
        expectedDailyVolume = bound(expectedDailyVolume, 0, 100_000 * AITBC);
        vm.prank(agent);
        try registry.register(_registration(operatorFor[agent], expectedDailyVolume)) returns (uint256 id) {
            agentIdOf[agent] = id;
            _ok("register");
        } catch {
            _failed("register");
        }
    }

    function stake(uint256 seed, uint256 amount) external syncTime {
        address agent = _pick(candidates, seed);
        uint256 balance = token.balanceOf(agent);
        if (agentIdOf[agent] == 0 || balance == 0) return;
        amount = bound(amount, 1, balance < MAX_STAKE_PER_CALL ? balance : MAX_STAKE_PER_CALL);
        vm.prank(agent);
        try registry.stake(amount) {
            ghostStake[agent] += amount;
            _ok("stake");
        } catch {
            _failed("stake");
        }
    }

    function requestUnstake(uint256 seed, uint256 amount, bool full, bool byOperator) external syncTime {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        if (id == 0 || ghostStake[agent] == 0) return;
        amount = full ? ghostStake[agent] : bound(amount, 1, ghostStake[agent]);
        uint256 matured = currentTime >= ghostWithdrawableAt[agent] ? ghostPending[agent] : 0;
        address operator = operatorFor[agent];
        uint256 operatorBefore = token.balanceOf(operator);
        vm.prank(byOperator ? operator : agent);
        try registry.requestUnstake(id, amount) {
            uint256 paid = token.balanceOf(operator) - operatorBefore;
            if (paid != matured) ghostWrongPayout = true;
            ghostWithdrawn += paid;
            ghostPaidByRequests += paid;
            ghostStake[agent] -= amount;
            ghostPending[agent] = ghostPending[agent] - matured + amount;
            ghostWithdrawableAt[agent] = currentTime + UNBONDING_DELAY;
            _ok("requestUnstake");
        } catch {
            _failed("requestUnstake");
        }
    }

    /// @notice A new declared daily volume: a raise is accepted only with its bond already staked (a cut always
    /// is); stake never moves.
    function declareDailyVolume(uint256 seed, uint256 volume) external syncTime {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        if (id == 0) return;
        volume = bound(volume, 0, 200_000 * AITBC);
        uint256 previous = registry.getAgent(id).expectedDailyVolume;
        vm.prank(agent);
        try registry.declareDailyVolume(volume) {
            if (volume > previous && ghostStake[agent] < _requiredStake(volume)) ghostUnbondedDeclaration = true;
            _ok("declareDailyVolume");
        } catch {
            _failed("declareDailyVolume");
        }
    }

    /// @notice Withdraws, after first warping past the unbonding delay when `waitForIt` (else possibly too early).
    function withdraw(uint256 seed, bool waitForIt, bool byOperator) external syncTime {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        if (id == 0) return;
        uint64 withdrawableAt = registry.getAgent(id).withdrawableAt;
        if (waitForIt && withdrawableAt > currentTime) {
            currentTime = withdrawableAt;
            vm.warp(currentTime);
        }
        address operator = operatorFor[agent];
        uint256 operatorBefore = token.balanceOf(operator);
        vm.prank(byOperator ? operator : agent);
        try registry.withdraw(id) {
            uint256 paid = token.balanceOf(operator) - operatorBefore;
            if (paid != ghostPending[agent]) ghostWrongPayout = true;
            ghostWithdrawn += paid;
            ghostPending[agent] = 0;
            _ok("withdraw");
        } catch {
            _failed("withdraw");
        }
    }

    /// @notice Slashes up to the whole stake + pending (anything above half must revert).
    function slash(uint256 seed, uint256 amount, bool withinCap) external syncTime {
        address agent = _pick(candidates, seed);
        uint256 id = agentIdOf[agent];
        uint256 total = ghostStake[agent] + ghostPending[agent];
        if (id == 0 || total < 2) return;
        amount = bound(amount, 1, withinCap ? total / 2 : total);
        try registry.slash(id, amount, "stake invariant") {
            if (2 * amount > total) ghostSlashAboveHalf = true;
            uint256 fromStake = amount < ghostStake[agent] ? amount : ghostStake[agent];
            ghostStake[agent] -= fromStake;
            ghostPending[agent] -= amount - fromStake;
            ghostSlashed += amount;
            _ok("slash");
        } catch {
            _failed("slash");
        }
    }

    function toggleFreeze(uint256 seed) external syncTime {
        address agent = _pick(candidates, seed);
        bool frozen = humanOverride.isFrozen(agent); // read before the prank, which the next call consumes
        vm.prank(guardian);
        if (frozen) humanOverride.unfreeze(agent);
        else humanOverride.freeze(agent, "stake invariant");
    }
}

/// @notice Invariant 2: the registry holds exactly the active stake plus the pending withdrawals, which equal
/// the per-agent sums; slashed stake goes to the treasury, withdrawals to the operators.
contract StakeAccountingInvariantTest is CoreFixture, InvariantTargets {
    StakeAccountingHandler internal handler;

    function setUp() public {
        _deployCore();
        handler = new StakeAccountingHandler(humanOverride, constitution, token, registry, 5);
        handler.prepare(3);
        registry.grantRole(registry.SLASHER_ROLE(), address(handler));
        humanOverride.grantRole(humanOverride.GUARDIAN_ROLE(), address(handler));

        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = handler.register.selector;
        selectors[1] = handler.stake.selector;
        selectors[2] = handler.requestUnstake.selector;
        selectors[3] = handler.withdraw.selector;
        selectors[4] = handler.slash.selector;
        selectors[5] = handler.toggleFreeze.selector;
        selectors[6] = handler.warpTime.selector;
        selectors[7] = handler.declareDailyVolume.selector;
        selectors[8] = handler.stake.selector; // stake and unstake twice as often: they feed every other action
        selectors[9] = handler.requestUnstake.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_registryBalanceEqualsStakedPlusPending() public view {
        assertEq(
            token.balanceOf(address(registry)),
            registry.totalStaked() + registry.totalPending(),
            "registry balance == totalStaked + totalPending"
        );
    }

    function invariant_totalsEqualSumOfAgents() public view {
        uint256 stakeSum;
        uint256 pendingSum;
        uint256 count = handler.candidateCount();
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.candidates(i);
            uint256 id = handler.agentIdOf(agent);
            if (id == 0) continue;
            IAgentRegistry.AgentView memory a = registry.getAgent(id);
            assertEq(a.stake, handler.ghostStake(agent), "agent stake == model");
            assertEq(a.pendingWithdrawal, handler.ghostPending(agent), "agent pending == model");
            stakeSum += a.stake;
            pendingSum += a.pendingWithdrawal;
        }
        assertEq(registry.totalStaked(), stakeSum, "totalStaked == sum of stakes");
        assertEq(registry.totalPending(), pendingSum, "totalPending == sum of pending");
        assertEq(token.balanceOf(address(registry)), stakeSum + pendingSum, "registry balance == sum of stake+pending");
    }

    function invariant_slashedFundsGoToTreasury() public view {
        assertFalse(handler.ghostSlashAboveHalf(), "a slash took more than half of stake + pending");
        assertFalse(handler.ghostWrongPayout(), "a withdrawal or request paid other than the matured pending amount");
        assertFalse(handler.ghostUnbondedDeclaration(), "a declared volume was accepted without its bond");
        assertEq(token.balanceOf(treasury), handler.ghostSlashed(), "treasury == sum slashed");
        uint256 operatorSum;
        uint256 count = handler.candidateCount();
        for (uint256 i = 0; i < count; ++i) operatorSum += token.balanceOf(handler.operatorFor(handler.candidates(i)));
        assertEq(operatorSum, handler.ghostWithdrawn(), "operators == sum withdrawn");
    }

    /// @dev Guards against a vacuous invariant: each handler action really moves stake, and the model follows.
    function test_handlerActions_moveStakeAndKeepTheModel() public {
        handler.register(3, 20_000 * AITBC); // candidate 3: required stake 3,000 AITBC
        assertTrue(handler.agentIdOf(handler.candidates(3)) != 0, "registered");
        handler.stake(3, 10_000 * AITBC);
        handler.requestUnstake(3, 4_000 * AITBC, false, true);
        handler.slash(3, 5_000 * AITBC, true); // 3 of 6 + 4 = 10 thousand, from stake first
        handler.withdraw(3, true, false);
        handler.requestUnstake(0, 0, true, false); // candidate 0 exits entirely
        handler.slash(0, type(uint256).max, false); // above half: must revert
        handler.toggleFreeze(1);
        handler.requestUnstake(1, 1, false, false); // frozen partial exit: must revert
        handler.toggleFreeze(4);
        handler.register(4, 0); // a frozen address cannot register: must revert

        assertEq(handler.succeeded("register"), 1, "register");
        assertEq(handler.reverted("register"), 1, "frozen caller");
        assertEq(handler.succeeded("stake"), 1, "stake");
        assertEq(handler.succeeded("requestUnstake"), 2, "requestUnstake");
        assertEq(handler.reverted("requestUnstake"), 1, "frozen partial unstake");
        assertEq(handler.succeeded("slash"), 1, "slash");
        assertEq(handler.reverted("slash"), 1, "oversized slash");
        assertEq(handler.succeeded("withdraw"), 1, "withdraw");
        assertEq(token.balanceOf(treasury), 5_000 * AITBC, "treasury");

        // Candidate 2 (10,000 AITBC staked): a request, the delay, then a second request pays the first out.
        address operator2 = handler.operatorFor(handler.candidates(2));
        handler.requestUnstake(2, 1_000 * AITBC, false, false);
        uint256 first = handler.ghostPending(handler.candidates(2));
        handler.warpTime(UNBONDING_DELAY - 1);
        handler.requestUnstake(2, 500 * AITBC, false, true); // one second early: merged
        assertEq(handler.ghostPending(handler.candidates(2)), first + 500 * AITBC, "merged while unbonding");
        assertEq(token.balanceOf(operator2), 0, "nothing paid early");
        handler.warpTime(UNBONDING_DELAY);
        handler.requestUnstake(2, 700 * AITBC, false, false);
        assertEq(token.balanceOf(operator2), first + 500 * AITBC, "matured stake paid to the operator");
        assertEq(handler.ghostPending(handler.candidates(2)), 700 * AITBC, "only the new request pending");
        assertEq(handler.ghostPaidByRequests(), first + 500 * AITBC, "counted as paid by a request");

        // Declaring a volume needs its bond: the 7,800 AITBC left staked cover 50,000 (6,000), not 90,000 (10,000).
        handler.declareDailyVolume(2, 50_000 * AITBC);
        handler.declareDailyVolume(2, 90_000 * AITBC);
        assertEq(handler.succeeded("declareDailyVolume"), 1, "bonded declaration");
        assertEq(handler.reverted("declareDailyVolume"), 1, "unbonded declaration");

        invariant_registryBalanceEqualsStakedPlusPending();
        invariant_totalsEqualSumOfAgents();
        invariant_slashedFundsGoToTreasury();
    }
}
