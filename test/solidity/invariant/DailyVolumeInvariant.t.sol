// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IAgentConstitution} from "../../../contracts/interfaces/IAgentConstitution.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";

/// @notice Agents (each with its own maxDailyVolume, capped by the volume it declared) transfer, get pulled by an
/// ordinary spender, spend other holders' (and agents') allowances themselves, and stake fuzzed amounts (up to twice
/// their limit), while the clock moves across UTC day buckets. Every successful action's value is added to a ghost
/// volume per (agent, day) for every agent the constitution must charge: the owner of the tokens (a transfer, any
/// transferFrom) and an agent spender (its transferFrom). Stakes add nothing: locking funds is not daily volume.
contract DailyVolumeHandler is HandlerBase {
    address public constant SPENDER = address(0x5E4D);
    address public constant RECIPIENT = address(0x7EC1);
    address public constant HOLDER = address(0x401D); // not an agent; approves every agent

    address[] public agents;
    address[] public owners; // agents, then HOLDER
    mapping(address agent => uint256 maxDailyVolume) public limitOf;
    mapping(address account => bool enrolled) public isAgent;

    mapping(address agent => mapping(uint256 day => uint256 volume)) public ghostVolume;
    mapping(address agent => uint256[] dayList) internal _days; // days with volume, per agent
    /// @notice Set if an action succeeded although the day's volume would then exceed the limit.
    bool public ghostLimitBreached;
    uint256 public ghostBreachDay;
    /// @notice Set if an outsider's zero-value transferFrom changed an agent's gas (or volume) usage.
    bool public ghostGasGriefed;

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        address[] memory agents_
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        for (uint256 i = 0; i < agents_.length; ++i) {
            agents.push(agents_[i]);
            owners.push(agents_[i]);
            limitOf[agents_[i]] = constitution_.constraintsOf(agents_[i]).maxDailyVolume;
            isAgent[agents_[i]] = true;
        }
        owners.push(HOLDER);
    }

    function _maxWarp() internal pure override returns (uint256) {
        return 30 hours;
    }

    function agentCount() external view returns (uint256) {
        return agents.length;
    }

    function daysOf(address agent) external view returns (uint256[] memory) {
        return _days[agent];
    }

    function today() public view returns (uint256) {
        return currentTime / 1 days;
    }

    function transfer(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        amount = _amount(agent, agent, amount);
        vm.prank(agent);
        try token.transfer(RECIPIENT, amount) {
            _record(agent, amount);
            _ok("transfer");
        } catch {
            _failed("transfer");
        }
    }

    /// @notice An ordinary (non-agent, non-module) spender pulls from an agent: the agent's TRANSFER.
    function transferFrom(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        amount = _amount(agent, agent, amount);
        vm.prank(SPENDER);
        try token.transferFrom(agent, RECIPIENT, amount) {
            _record(agent, amount);
            _ok("transferFrom");
        } catch {
            _failed("transferFrom");
        }
    }

    /// @notice An agent spends an allowance of another agent, of the plain holder, or (transferFrom on itself)
    /// its own tokens: the spender is charged, and so is an owner that is another agent.
    function agentSpend(uint256 spenderSeed, uint256 ownerSeed, uint256 amount) external syncTime {
        address spender = _pick(agents, spenderSeed);
        address owner = _pick(owners, ownerSeed);
        bool ownerCharged = owner != spender && isAgent[owner];
        amount = _amount(spender, ownerCharged ? owner : spender, amount);
        vm.prank(spender);
        try token.transferFrom(owner, RECIPIENT, amount) {
            _record(spender, amount);
            if (ownerCharged) _record(owner, amount);
            _ok("agentSpend");
        } catch {
            _failed("agentSpend");
        }
    }

    /// @notice Anyone may call transferFrom for zero on any address: it must never cost the owner anything.
    function outsiderZeroPull(uint256 agentSeed, uint256 outsiderSeed) external syncTime {
        address agent = _pick(agents, agentSeed);
        address outsider = address(uint160(0x0B5E0000 + (outsiderSeed % 16)));
        IAgentConstitution.Usage memory before = constitution.usageOf(agent);
        vm.prank(outsider);
        try token.transferFrom(agent, RECIPIENT, 0) {
            IAgentConstitution.Usage memory after_ = constitution.usageOf(agent);
            if (after_.gas != before.gas || after_.volume != before.volume) ghostGasGriefed = true;
            _ok("outsiderZeroPull");
        } catch {
            _failed("outsiderZeroPull");
        }
    }

    function stake(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        amount = _amount(agent, agent, amount);
        vm.prank(agent);
        try registry.stake(amount) {
            _record(agent, 0); // not daily volume
            _ok("stake");
        } catch {
            _failed("stake");
        }
    }

    /// @notice Jumps to the last second of the current day bucket (the edge a rolling-window bug would show at).
    function warpToEndOfDay() external {
        currentTime = (today() + 1) * 1 days - 1;
        vm.warp(currentTime);
    }

    /// @dev Up to twice `agent`'s limit, with the interesting values (the smaller of the two agents' remainders
    /// for the day, one past it) likely.
    function _amount(address agent, address other, uint256 seed) internal view returns (uint256) {
        uint256 remaining = _remaining(agent);
        uint256 otherRemaining = _remaining(other);
        if (otherRemaining < remaining) remaining = otherRemaining;
        uint256 mode = seed % 4;
        if (mode == 0) return remaining;
        if (mode == 1) return remaining + 1;
        return bound(seed >> 2, 0, 2 * limitOf[agent]);
    }

    function _remaining(address agent) internal view returns (uint256) {
        uint256 limit = limitOf[agent];
        uint256 used = ghostVolume[agent][today()];
        return used < limit ? limit - used : 0;
    }

    function _record(address agent, uint256 amount) internal {
        uint256 day = today();
        if (ghostVolume[agent][day] == 0 && amount > 0) _days[agent].push(day);
        ghostVolume[agent][day] += amount;
        if (ghostVolume[agent][day] > limitOf[agent]) {
            ghostLimitBreached = true;
            ghostBreachDay = day;
        }
    }
}

/// @notice Invariant 3: an agent's volume in any UTC day bucket never exceeds its constitution's maxDailyVolume,
/// whichever way its tokens move (transfer, transferFrom by anyone) and whoever's allowance it spends.
contract DailyVolumeInvariantTest is CoreFixture, InvariantTargets {
    DailyVolumeHandler internal handler;

    function setUp() public {
        _deployCore();
        address[] memory agents = new address[](3);
        // Declared volumes; the enrolled limits are min(default 100,000, declared): 1,000 / 25,000 / 100,000.
        uint256[3] memory declared = [uint256(1_000 * AITBC), 25_000 * AITBC, 200_000 * AITBC];
        address holder = address(0x401D);
        _mintTo(holder, 5_000_000);
        for (uint256 i = 0; i < agents.length; ++i) {
            agents[i] = address(uint160(0xA6E4700 + i));
            _registerBonded(agents[i], address(uint160(0x0BE4700 + i)), declared[i]);
            _mintTo(agents[i], 5_000_000); // plenty: the balance is never what stops an action
            vm.prank(agents[i]);
            token.approve(address(0x5E4D), type(uint256).max); // the handler's SPENDER, not a module
            vm.prank(holder);
            token.approve(agents[i], type(uint256).max);
        }
        for (uint256 i = 0; i < agents.length; ++i) {
            for (uint256 j = 0; j < agents.length; ++j) {
                vm.prank(agents[i]);
                token.approve(agents[j], type(uint256).max); // j == i: its own transferFrom
            }
        }
        handler = new DailyVolumeHandler(humanOverride, constitution, token, registry, agents);
        assertEq(handler.limitOf(agents[0]), 1_000 * AITBC, "limit capped by the declared volume");
        assertEq(handler.limitOf(agents[2]), DEFAULT_MAX_DAILY_VOLUME, "limit capped by the default");

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = handler.transfer.selector;
        selectors[1] = handler.transferFrom.selector;
        selectors[2] = handler.agentSpend.selector;
        selectors[3] = handler.outsiderZeroPull.selector;
        selectors[4] = handler.stake.selector;
        selectors[5] = handler.warpTime.selector;
        selectors[6] = handler.warpToEndOfDay.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_dailyVolumeNeverExceedsLimit() public view {
        assertFalse(handler.ghostLimitBreached(), "an action pushed a day's volume past maxDailyVolume");
        uint256 count = handler.agentCount();
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.agents(i);
            uint256 limit = constitution.constraintsOf(agent).maxDailyVolume;
            assertLe(limit, constitution.declaredVolumeOf(agent), "maxDailyVolume <= declared volume");
            uint256[] memory days_ = handler.daysOf(agent);
            for (uint256 d = 0; d < days_.length; ++d) {
                assertLe(handler.ghostVolume(agent, days_[d]), limit, "day volume <= maxDailyVolume");
            }
        }
    }

    /// @dev The constitution's own record of today agrees with the model (so stakes were not charged as volume,
    /// and every spender and owner was), and is within the limit.
    function invariant_usageOfMatchesSuccessfulActions() public {
        vm.warp(handler.currentTime());
        uint256 day = handler.today();
        uint256 count = handler.agentCount();
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.agents(i);
            IAgentConstitution.Usage memory usage = constitution.usageOf(agent);
            assertEq(usage.day, day, "usage bucket is today");
            assertEq(usage.volume, handler.ghostVolume(agent, day), "usageOf.volume == sum of today's actions");
            assertLe(usage.volume, constitution.constraintsOf(agent).maxDailyVolume, "usage <= maxDailyVolume");
        }
    }

    function invariant_zeroValuePullsCostTheOwnerNothing() public view {
        assertFalse(handler.ghostGasGriefed(), "a zero-value transferFrom by an outsider charged the agent");
    }

    /// @dev Guards against a vacuous invariant: the handler reaches the limit through every charged path, is
    /// stopped by it, stakes without using it, and starts over on the next day. Agent 0's limit is 1,000 AITBC.
    function test_handlerActions_hitTheLimitAndResetNextDay() public {
        address agent0 = handler.agents(0);
        handler.stake(0, 4 * 1_500 * AITBC + 2); // mode 2: 1,500 AITBC staked, above the daily limit
        assertEq(handler.succeeded("stake"), 1, "stake succeeds above the daily limit");
        assertEq(constitution.usageOf(agent0).volume, 0, "stake is not daily volume");
        handler.transfer(0, 4 * 400 * AITBC + 2); // mode 2: 400 AITBC
        handler.agentSpend(0, 3, 0); // agent 0 spends the holder's tokens: exactly its remainder
        assertEq(handler.ghostVolume(agent0, handler.today()), 1_000 * AITBC, "limit reached");
        handler.transferFrom(0, 1); // one past the remainder: must revert
        handler.agentSpend(1, 0, 1); // agent 1 spends agent 0's allowance: agent 0 is at its limit
        handler.agentSpend(0, 3, 1); // agent 0 spends the holder's tokens: agent 0 is at its limit
        handler.outsiderZeroPull(0, 5); // costs nothing, even at the limit
        assertEq(handler.succeeded("transfer") + handler.succeeded("agentSpend"), 2, "both succeed");
        assertEq(handler.reverted("transferFrom"), 1, "pull past the limit reverts");
        assertEq(handler.reverted("agentSpend"), 2, "spends past either limit revert");
        assertEq(handler.succeeded("outsiderZeroPull"), 1, "zero pull");
        invariant_dailyVolumeNeverExceedsLimit();
        invariant_usageOfMatchesSuccessfulActions();
        invariant_zeroValuePullsCostTheOwnerNothing();

        // Agent 1 spends agent 2's allowance: both are charged.
        handler.agentSpend(1, 2, 4 * 10 * AITBC + 2); // mode 2: 10 AITBC
        assertEq(handler.ghostVolume(handler.agents(1), handler.today()), 10 * AITBC, "spender charged");
        assertEq(handler.ghostVolume(handler.agents(2), handler.today()), 10 * AITBC, "owner charged");
        invariant_usageOfMatchesSuccessfulActions();

        handler.warpToEndOfDay();
        handler.transfer(0, 1); // one past a zero remainder: still reverts on the last second
        assertEq(handler.reverted("transfer"), 1, "same bucket until midnight");
        handler.warpTime(1);
        handler.transfer(0, 0); // a fresh day: the whole limit
        assertEq(handler.ghostVolume(agent0, handler.today()), 1_000 * AITBC, "new day");
        invariant_dailyVolumeNeverExceedsLimit();
        invariant_usageOfMatchesSuccessfulActions();
    }
}
