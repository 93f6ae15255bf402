// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IAgentConstitution} from "../../../contracts/interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../../../contracts/interfaces/IAgentRegistry.sol";
import {IAIToken} from "../../../contracts/interfaces/IAIToken.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";

/// @notice A guardian randomly stops and resumes the protocol; between toggles the handler attempts every
/// state-changing action of every module (mints of all three kinds, transfers, transferFroms by an ordinary and by
/// an agent spender, approvals, permits, registration, profile updates, declared volumes, stake, unstake (which may
/// also pay out matured stake), withdrawal, slash, reputation, constitution changes), each with inputs that would
/// succeed were the protocol running. Any success while stopped is recorded.
/// Needs COORDINATOR_ROLE on the token and SLASHER_ROLE and REPUTATION_ROLE on the registry.
contract EmergencyStopHandler is HandlerBase {
    bytes32 internal constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    address public constant SPENDER = address(0x5E4D);

    uint256[] internal _holderKeys; // agents first, then plain holders; all can sign permits
    address[] public holders;
    address[] public agents;
    address[] public candidates; // not yet registered
    mapping(address account => bool done) public registered;

    /// @notice Set when any state-changing call succeeded while the emergency stop was on.
    bool public ghostChangedWhileStopped;
    string public ghostViolation;
    uint256 public ghostSucceededWhileRunning;
    uint256 public ghostRevertedWhileStopped;
    bytes32 public snapshot; // fingerprint of the state when the stop went on

    bool internal _stoppedAtCall;
    uint256 internal _verifiedNonce;

    /// @dev Syncs the clock, maybe toggles the stop first (one call in three), and records whether it is on.
    modifier attempt(uint256 toggleSeed) {
        vm.warp(currentTime);
        ++calls;
        if (toggleSeed % 3 == 0) _toggle();
        _stoppedAtCall = humanOverride.isStopped();
        _;
    }

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        uint256[] memory agentKeys,
        uint256[] memory holderKeys,
        address[] memory candidates_
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        for (uint256 i = 0; i < agentKeys.length; ++i) {
            _holderKeys.push(agentKeys[i]);
            holders.push(vm.addr(agentKeys[i]));
            agents.push(vm.addr(agentKeys[i]));
        }
        for (uint256 i = 0; i < holderKeys.length; ++i) {
            _holderKeys.push(holderKeys[i]);
            holders.push(vm.addr(holderKeys[i]));
        }
        for (uint256 i = 0; i < candidates_.length; ++i) candidates.push(candidates_[i]);
    }

    function holderCount() external view returns (uint256) {
        return holders.length;
    }

    function agentCount() external view returns (uint256) {
        return agents.length;
    }

    // ---------------------------------------------------------------- the switch

    function toggleStop() external syncTime {
        _toggle();
    }

    function _toggle() internal {
        bool stopped = humanOverride.isStopped(); // read before the prank, which the next call consumes
        vm.prank(guardian);
        if (stopped) {
            humanOverride.resume();
        } else {
            humanOverride.emergencyStop("invariant");
            snapshot = fingerprint();
        }
    }

    // ---------------------------------------------------------------- AIToken

    function mintFromReceipt(uint256 toggleSeed, uint256 holderSeed, uint256 units) external attempt(toggleSeed) {
        IAIToken.ComputeReceipt memory receipt = _receipt(_pick(holders, holderSeed), bound(units, 1, 1_000));
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        try token.mintFromReceipt(receipt, signature) {
            _succeeded("mintFromReceipt");
        } catch {
            _reverted("mintFromReceipt");
        }
    }

    function mintFromReceipts(uint256 toggleSeed, uint256 holderSeed, uint256 units) external attempt(toggleSeed) {
        IAIToken.ComputeReceipt[] memory receipts = new IAIToken.ComputeReceipt[](2);
        bytes[] memory signatures = new bytes[](2);
        for (uint256 i = 0; i < 2; ++i) {
            receipts[i] = _receipt(_pick(holders, holderSeed + i), bound(units, 1, 1_000));
            signatures[i] = _sign(ATTESTOR_KEY, receipts[i]);
        }
        try token.mintFromReceipts(receipts, signatures) {
            _succeeded("mintFromReceipts");
        } catch {
            _reverted("mintFromReceipts");
        }
    }

    function mintFromVerifiedReceipt(
        uint256 toggleSeed,
        uint256 holderSeed,
        uint256 units
    ) external attempt(toggleSeed) {
        bytes32 key = keccak256(abi.encode("verified", ++_verifiedNonce));
        try token.mintFromVerifiedReceipt(key, _pick(holders, holderSeed), bound(units, 1, 1_000)) {
            _succeeded("mintFromVerifiedReceipt");
        } catch {
            _reverted("mintFromVerifiedReceipt");
        }
    }

    function transfer(
        uint256 toggleSeed,
        uint256 fromSeed,
        uint256 toSeed,
        uint256 amount
    ) external attempt(toggleSeed) {
        address from = _pick(holders, fromSeed);
        address to = _pick(holders, toSeed);
        amount = bound(amount, 0, _spendable(from));
        vm.prank(from);
        try token.transfer(to, amount) {
            _succeeded("transfer");
        } catch {
            _reverted("transfer");
        }
    }

    function approve(uint256 toggleSeed, uint256 ownerSeed, uint256 amount) external attempt(toggleSeed) {
        address owner = _pick(holders, ownerSeed);
        vm.prank(owner);
        try token.approve(SPENDER, amount) {
            _succeeded("approve");
        } catch {
            _reverted("approve");
        }
    }

    function transferFrom(uint256 toggleSeed, uint256 ownerSeed, uint256 amount) external attempt(toggleSeed) {
        address owner = _pick(holders, ownerSeed);
        uint256 allowance = token.allowance(owner, SPENDER);
        uint256 spendable = _spendable(owner);
        amount = bound(amount, 0, allowance < spendable ? allowance : spendable);
        vm.prank(SPENDER);
        try token.transferFrom(owner, SPENDER, amount) {
            _succeeded("transferFrom");
        } catch {
            _reverted("transferFrom");
        }
    }

    /// @notice An agent spends a plain holder's allowance (its own TRANSFER action, and the holder's funds).
    function agentTransferFrom(
        uint256 toggleSeed,
        uint256 agentSeed,
        uint256 ownerSeed,
        uint256 amount
    ) external attempt(toggleSeed) {
        address agent = _pick(agents, agentSeed);
        address owner = holders[agents.length + (ownerSeed % (holders.length - agents.length))];
        uint256 allowance = token.allowance(owner, agent);
        uint256 spendable = _spendable(owner);
        amount = bound(amount, 0, allowance < spendable ? allowance : spendable);
        vm.prank(agent);
        try token.transferFrom(owner, agent, amount) {
            _succeeded("agentTransferFrom");
        } catch {
            _reverted("agentTransferFrom");
        }
    }

    function permit(uint256 toggleSeed, uint256 ownerSeed, uint256 value) external attempt(toggleSeed) {
        uint256 index = ownerSeed % _holderKeys.length;
        address owner = holders[index];
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(PERMIT_TYPEHASH, owner, SPENDER, value, token.nonces(owner), deadline)
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_holderKeys[index], digest);
        try token.permit(owner, SPENDER, value, deadline, v, r, s) {
            _succeeded("permit");
        } catch {
            _reverted("permit");
        }
    }

    // ---------------------------------------------------------------- AgentRegistry

    function register(uint256 toggleSeed, uint256 seed) external attempt(toggleSeed) {
        address candidate = _pick(candidates, seed);
        if (registered[candidate]) return;
        vm.prank(candidate);
        try registry.register(_registration(address(0x0BE4), 0)) {
            registered[candidate] = true;
            _succeeded("register");
        } catch {
            _reverted("register");
        }
    }

    function updateProfile(
        uint256 toggleSeed,
        uint256 agentSeed,
        string calldata version
    ) external attempt(toggleSeed) {
        address agent = _pick(agents, agentSeed);
        bytes32[] memory capabilities = new bytes32[](1);
        capabilities[0] = keccak256(bytes(version));
        vm.prank(agent);
        try registry.updateProfile("ipfs://new", "https://new.example", "2.0.0", capabilities) {
            _succeeded("updateProfile");
        } catch {
            _reverted("updateProfile");
        }
    }

    /// @notice A new declared volume the agent's stake covers.
    function declareDailyVolume(uint256 toggleSeed, uint256 agentSeed, uint256 volume) external attempt(toggleSeed) {
        address agent = _pick(agents, agentSeed);
        uint256 staked = registry.stakeOf(registry.getAgentId(agent));
        uint256 bonded = staked < MIN_STAKE ? 0 : ((staked - MIN_STAKE) * 10_000) / BOND_BPS;
        volume = _boundVolume(volume, bonded);
        vm.prank(agent);
        try registry.declareDailyVolume(volume) {
            _succeeded("declareDailyVolume");
        } catch {
            _reverted("declareDailyVolume");
        }
    }

    function stake(uint256 toggleSeed, uint256 agentSeed, uint256 amount) external attempt(toggleSeed) {
        address agent = _pick(agents, agentSeed);
        uint256 spendable = _spendable(agent);
        if (spendable == 0) return;
        amount = bound(amount, 1, spendable < 1_000 * AITBC ? spendable : 1_000 * AITBC);
        vm.prank(agent);
        try registry.stake(amount) {
            _succeeded("stake");
        } catch {
            _reverted("stake");
        }
    }

    function requestUnstake(uint256 toggleSeed, uint256 agentSeed, uint256 amount) external attempt(toggleSeed) {
        address agent = _pick(agents, agentSeed);
        uint256 id = registry.getAgentId(agent);
        uint256 staked = registry.stakeOf(id);
        uint256 required = registry.requiredStake(id);
        if (staked <= required) return; // keep the agents in play: partial unstakes only
        amount = bound(amount, 1, staked - required);
        // The operator: it may add to stake still unbonding (the agent key may not restart its delay).
        vm.prank(registry.getAgent(id).operator);
        try registry.requestUnstake(id, amount) {
            _succeeded("requestUnstake");
        } catch {
            _reverted("requestUnstake");
        }
    }

    function withdraw(uint256 toggleSeed, uint256 agentSeed) external attempt(toggleSeed) {
        uint256 id = registry.getAgentId(_pick(agents, agentSeed));
        IAgentRegistry.AgentView memory a = registry.getAgent(id);
        if (a.pendingWithdrawal == 0) return;
        if (a.withdrawableAt > currentTime) {
            currentTime = a.withdrawableAt;
            vm.warp(currentTime);
        }
        vm.prank(a.operator);
        try registry.withdraw(id) {
            _succeeded("withdraw");
        } catch {
            _reverted("withdraw");
        }
    }

    function slash(uint256 toggleSeed, uint256 agentSeed, uint256 amount) external attempt(toggleSeed) {
        uint256 id = registry.getAgentId(_pick(agents, agentSeed));
        IAgentRegistry.AgentView memory a = registry.getAgent(id);
        uint256 maxSlash = (a.stake + a.pendingWithdrawal) / 2;
        if (maxSlash == 0) return;
        try registry.slash(id, bound(amount, 1, maxSlash), "stop invariant") {
            _succeeded("slash");
        } catch {
            _reverted("slash");
        }
    }

    function updateReputation(uint256 toggleSeed, uint256 agentSeed, int256 delta) external attempt(toggleSeed) {
        uint256 id = registry.getAgentId(_pick(agents, agentSeed));
        delta = bound(delta, -1_000, 1_000);
        try registry.updateReputation(id, delta, "stop invariant") {
            _succeeded("updateReputation");
        } catch {
            _reverted("updateReputation");
        }
    }

    // ---------------------------------------------------------------- AgentConstitution

    function setConstraints(
        uint256 toggleSeed,
        uint256 agentSeed,
        uint256 maxDailyVolume
    ) external attempt(toggleSeed) {
        address agent = _pick(agents, agentSeed);
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxDailyVolume = uint96(_boundVolume(maxDailyVolume, constitution.declaredVolumeOf(agent)));
        vm.prank(constitution.operatorOf(agent));
        try constitution.setConstraints(agent, c) {
            _succeeded("setConstraints");
        } catch {
            _reverted("setConstraints");
        }
    }

    // ---------------------------------------------------------------- state

    /// @notice A hash of every piece of state the actions above can touch (except the time-bucketed usage).
    function fingerprint() public view returns (bytes32 h) {
        h = keccak256(
            abi.encode(
                token.totalSupply(),
                token.balanceOf(address(registry)),
                token.balanceOf(treasury),
                token.balanceOf(SPENDER),
                registry.totalStaked(),
                registry.totalPending(),
                registry.agentCount()
            )
        );
        for (uint256 i = 0; i < holders.length; ++i) {
            address holder = holders[i];
            h = keccak256(
                abi.encode(h, token.balanceOf(holder), token.allowance(holder, SPENDER), token.nonces(holder))
            );
        }
        for (uint256 i = 0; i < agents.length; ++i) {
            IAgentRegistry.AgentView memory a = registry.getAgent(registry.getAgentId(agents[i]));
            h = keccak256(
                abi.encode(
                    h,
                    a.stake,
                    a.pendingWithdrawal,
                    a.withdrawableAt,
                    a.reputation,
                    a.status,
                    a.capabilities,
                    token.balanceOf(a.operator),
                    constitution.constraintsOf(agents[i])
                )
            );
            h = keccak256(abi.encode(h, a.expectedDailyVolume, constitution.declaredVolumeOf(agents[i])));
        }
    }

    /// @dev A daily volume of at least 10,000 AITBC (so transfers stay possible) when `cap` allows, at most `cap`
    /// and the default.
    function _boundVolume(uint256 seed, uint256 cap) internal pure returns (uint256) {
        if (cap > DEFAULT_MAX_DAILY_VOLUME) cap = DEFAULT_MAX_DAILY_VOLUME;
        return bound(seed, cap < 10_000 * AITBC ? cap : 10_000 * AITBC, cap);
    }

    function _spendable(address account) internal view returns (uint256) {
        return token.balanceOf(account) / 2; // stays well inside the agents' daily volume
    }

    function _succeeded(string memory name) internal {
        if (_stoppedAtCall) {
            ghostChangedWhileStopped = true;
            ghostViolation = name;
        } else {
            ++ghostSucceededWhileRunning;
            _ok(name);
        }
    }

    function _reverted(string memory name) internal {
        if (_stoppedAtCall) ++ghostRevertedWhileStopped;
        _failed(name);
    }
}

/// @notice Invariant 4: while the emergency stop is on, no state change succeeds.
contract EmergencyStopInvariantTest is CoreFixture, InvariantTargets {
    EmergencyStopHandler internal handler;

    function setUp() public {
        _deployCore();
        uint256[] memory agentKeys = new uint256[](2);
        agentKeys[0] = 0xA6E41;
        agentKeys[1] = 0xA6E42;
        uint256[] memory holderKeys = new uint256[](2);
        holderKeys[0] = 0x401D1;
        holderKeys[1] = 0x401D2;
        address[] memory candidates = new address[](4);
        for (uint256 i = 0; i < candidates.length; ++i) candidates[i] = address(uint160(0xCA4D00 + i));

        for (uint256 i = 0; i < agentKeys.length; ++i) {
            address agent = vm.addr(agentKeys[i]);
            // Declares the default daily volume (bond 11,000 AITBC): its transfers are never what the limit stops.
            uint256 id = _registerAgent(agent, address(uint160(0x0BE4700 + i)), DEFAULT_MAX_DAILY_VOLUME);
            _fundAndStake(agent, 20 * MIN_STAKE);
            _mintTo(agent, 20_000);
            vm.prank(agent);
            token.approve(address(0x5E4D), type(uint256).max);
            vm.prank(agent);
            registry.requestUnstake(id, MIN_STAKE); // something pending to withdraw
        }
        for (uint256 i = 0; i < holderKeys.length; ++i) {
            address holder = vm.addr(holderKeys[i]);
            _mintTo(holder, 50_000);
            vm.startPrank(holder);
            token.approve(address(0x5E4D), type(uint256).max);
            for (uint256 j = 0; j < agentKeys.length; ++j) token.approve(vm.addr(agentKeys[j]), type(uint256).max);
            vm.stopPrank();
        }

        handler = new EmergencyStopHandler(
            humanOverride,
            constitution,
            token,
            registry,
            agentKeys,
            holderKeys,
            candidates
        );
        token.grantRole(token.COORDINATOR_ROLE(), address(handler));
        registry.grantRole(registry.SLASHER_ROLE(), address(handler));
        registry.grantRole(registry.REPUTATION_ROLE(), address(handler));

        bytes4[] memory selectors = new bytes4[](20);
        selectors[0] = handler.toggleStop.selector;
        selectors[1] = handler.mintFromReceipt.selector;
        selectors[2] = handler.mintFromReceipts.selector;
        selectors[3] = handler.mintFromVerifiedReceipt.selector;
        selectors[4] = handler.transfer.selector;
        selectors[5] = handler.approve.selector;
        selectors[6] = handler.transferFrom.selector;
        selectors[7] = handler.agentTransferFrom.selector;
        selectors[8] = handler.permit.selector;
        selectors[9] = handler.register.selector;
        selectors[10] = handler.updateProfile.selector;
        selectors[11] = handler.declareDailyVolume.selector;
        selectors[12] = handler.stake.selector;
        selectors[13] = handler.requestUnstake.selector;
        selectors[14] = handler.withdraw.selector;
        selectors[15] = handler.slash.selector;
        selectors[16] = handler.updateReputation.selector;
        selectors[17] = handler.setConstraints.selector;
        selectors[18] = handler.warpTime.selector;
        selectors[19] = handler.toggleStop.selector; // the switch twice as often
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_noStateChangeSucceedsWhileStopped() public view {
        assertFalse(
            handler.ghostChangedWhileStopped(),
            string.concat("succeeded while stopped: ", handler.ghostViolation())
        );
    }

    /// @dev Belt and braces: whatever the handler believed, the state is the one the stop froze.
    function invariant_stateUnchangedWhileStopped() public view {
        if (!humanOverride.isStopped()) return;
        assertEq(handler.fingerprint(), handler.snapshot(), "state changed while stopped");
    }

    /// @dev Guards against a vacuous invariant: every handler action succeeds while running and reverts while
    /// stopped (toggle seed 1 never toggles; seed 0 always does).
    function test_handlerActions_succeedRunningAndRevertStopped() public {
        _allActions(1, 0);
        assertEq(handler.ghostSucceededWhileRunning(), 17, "every action succeeds while running");
        handler.requestUnstake(1, 1, 100 * AITBC); // pending again, for the withdrawal below
        handler.toggleStop();
        assertTrue(humanOverride.isStopped(), "stopped");
        _allActions(1, 1);
        assertEq(handler.ghostRevertedWhileStopped(), 17, "every action reverts while stopped");
        assertFalse(handler.ghostChangedWhileStopped(), "nothing succeeded while stopped");
        assertEq(handler.fingerprint(), handler.snapshot(), "state frozen");
        handler.mintFromReceipt(0, 0, 1); // seed 0 toggles first: resumed, so it succeeds
        assertFalse(humanOverride.isStopped(), "resumed");
        assertEq(handler.ghostSucceededWhileRunning(), 19, "running again");
    }

    function _allActions(uint256 seed, uint256 candidate) internal {
        handler.mintFromReceipt(seed, 0, 10);
        handler.mintFromReceipts(seed, 1, 10);
        handler.mintFromVerifiedReceipt(seed, 2, 10);
        handler.transfer(seed, 0, 1, 5 * AITBC);
        handler.approve(seed, 1, 7 * AITBC);
        handler.transferFrom(seed, 2, 3 * AITBC);
        handler.agentTransferFrom(seed, 0, 1, 2 * AITBC);
        handler.permit(seed, 3, 11 * AITBC);
        handler.register(seed, candidate);
        handler.updateProfile(seed, 0, "v2");
        handler.declareDailyVolume(seed, 1, 60_000 * AITBC);
        handler.stake(seed, 1, 100 * AITBC);
        handler.requestUnstake(seed, 1, 100 * AITBC);
        handler.withdraw(seed, 1);
        handler.slash(seed, 0, 10 * AITBC);
        handler.updateReputation(seed, 1, -7);
        handler.setConstraints(seed, 0, 50_000 * AITBC);
    }
}
