// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {AgentVotes} from "../../contracts/governance/AgentVotes.sol";
import {IAgentConstitution} from "../../contracts/interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../../contracts/interfaces/IAgentRegistry.sol";
import {IAgentVotes} from "../../contracts/interfaces/IAgentVotes.sol";
import {IServiceMarketplace} from "../../contracts/interfaces/IServiceMarketplace.sol";
import {IWorkflows} from "../../contracts/interfaces/IWorkflows.sol";
import {ActionTypes} from "../../contracts/libraries/ActionTypes.sol";
import {ProtocolActors, ProtocolFixture} from "./market/ProtocolFixture.sol";

/// @notice Agent key rotation by the operator ({IAgentRegistry-rotateKey}): what moves with the agent (identity,
/// stake, constitution and today's usage, votes and the delegations to it, Workflows credits, encryption key), the
/// attacks of the old key after the rotation (each refused, by its error), and the new key doing what the agent could.
contract KeyRotationTest is ProtocolFixture, ProtocolActors {
    uint256 internal constant OLD_KEY = 0xA11CE;
    uint256 internal constant NEW_KEY = 0xB0B;
    uint256 internal constant KEEPER_KEY = 0xC0FFEE;
    uint256 internal constant DELEGATOR_KEY = 0xD1E;
    bytes32 internal constant SERVICE = keccak256("svc-rotation");
    bytes32 internal constant ENCRYPTION_KEY = keccak256("x25519 public key");

    address internal operator = address(0x0BE7A7);
    address internal client = address(0xC11E47);
    AgentVotes internal agentVotes;
    address internal oldKey;
    address internal newKey;
    address internal keeper;
    address internal delegator;
    uint256 internal agentId;
    uint256 internal keeperId;
    uint256 internal workflowId;

    function setUp() public {
        _deployProtocol();
        agentVotes = new AgentVotes(address(this), registry, humanOverride, constitution, _schedule());
        registry.setVotes(agentVotes);
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(agentVotes));

        oldKey = vm.addr(OLD_KEY);
        newKey = vm.addr(NEW_KEY);
        (, agentId) = _setupProvider(marketplace, OLD_KEY, operator, SERVICE);
        (keeper, keeperId) = _setupProvider(marketplace, KEEPER_KEY, operator, bytes32(0));
        (delegator, ) = _setupProvider(marketplace, DELEGATOR_KEY, operator, bytes32(0));
        vm.prank(delegator);
        agentVotes.delegate(oldKey);
        vm.prank(operator);
        registry.setEncryptionKey(agentId, ENCRYPTION_KEY);

        // A one-step workflow whose step the rotating agent runs: it earns credits as a provider.
        uint256[] memory masks = new uint256[](1);
        vm.prank(client);
        workflowId = workflows.defineWorkflow(_spec(masks));
        _mintTo(client, 1_000);
        vm.startPrank(client);
        token.approve(address(workflows), type(uint256).max);
        token.approve(address(marketplace), type(uint256).max);
        vm.stopPrank();
        _mintTo(oldKey, 10); // a wallet balance of the agent's key
    }

    function _schedule() internal pure returns (IAgentVotes.Schedule memory s) {
        s.base = AITBC;
        s.stakeMultiplierBps = new IAgentVotes.Tier[](1);
        s.stakeMultiplierBps[0] = IAgentVotes.Tier(uint128(1_000 * AITBC), 10_000);
    }

    function _rotate() internal {
        vm.prank(operator);
        registry.rotateKey(agentId, newKey);
    }

    /// @dev A claimed execution of the workflow by the keeper; returns its id.
    function _claimedExecution() internal returns (uint256 executionId) {
        vm.prank(client);
        executionId = workflows.requestExecution(
            IWorkflows.ExecutionRequest({
                workflowId: workflowId,
                inputsHash: keccak256("inputs"),
                budget: 10 * AITBC,
                listingId: 0,
                keeper: address(0),
                maxListingFee: 0,
                maxKeeperFee: 0
            })
        );
        vm.prank(keeper);
        workflows.claimExecution(executionId);
    }

    /// @dev Runs an execution whose one step `providerKey` signs at `cost`: credits `cost` to its address.
    function _earn(uint256 providerKey, uint256 cost) internal {
        uint256 executionId = _claimedExecution();
        IWorkflows.StepRecord[] memory records = new IWorkflows.StepRecord[](1);
        records[0] = _stepRecord(workflows, providerKey, executionId, 0, cost);
        vm.startPrank(keeper);
        workflows.recordSteps(executionId, records);
        workflows.completeExecution(executionId, keccak256("result"), 0);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- what moves

    function test_rotateKey_movesIdentityStakeAndEncryptionKey() public {
        IAgentRegistry.AgentView memory before = registry.getAgent(agentId);
        vm.expectEmit(address(registry));
        emit IAgentRegistry.AgentKeyRotated(agentId, oldKey, newKey, operator);
        _rotate();
        IAgentRegistry.AgentView memory after_ = registry.getAgent(agentId);
        assertEq(after_.agent, newKey, "agent key");
        assertEq(after_.operator, operator, "operator");
        assertEq(after_.stake, before.stake, "stake");
        assertEq(uint256(after_.reputation), uint256(before.reputation), "reputation");
        assertEq(after_.expectedDailyVolume, before.expectedDailyVolume, "declared volume");
        assertEq(registry.agentIdOf(newKey), agentId, "new key is the agent");
        assertEq(registry.agentIdOf(oldKey), 0, "old key is no agent");
        assertEq(registry.retiredAgentIdOf(oldKey), agentId, "old key retired");
        assertEq(registry.encryptionKeyOf(agentId), ENCRYPTION_KEY, "encryption key");
        assertTrue(registry.isActive(agentId), "still active");
    }

    function test_rotateKey_movesConstitutionAndTodaysUsage() public {
        IAgentConstitution.Constraints memory c = _defaultConstraints();
        c.maxGasPerDay = 7_000_000;
        _setConstraints(oldKey, c);
        vm.prank(oldKey);
        token.transfer(client, 5 * AITBC); // some of today's volume used
        IAgentConstitution.Usage memory used = constitution.usageOf(oldKey);
        uint256 bonded = constitution.bondedVolumeOf(oldKey);

        _rotate();
        assertTrue(constitution.isEnrolled(newKey), "enrolled");
        assertEq(constitution.operatorOf(newKey), operator, "operator");
        assertEq(uint256(constitution.constraintsOf(newKey).maxGasPerDay), 7_000_000, "constraints moved");
        assertEq(constitution.declaredVolumeOf(newKey), AGENT_VOLUME, "declared volume");
        assertEq(constitution.bondedVolumeOf(newKey), bonded, "bonded volume");
        IAgentConstitution.Usage memory moved = constitution.usageOf(newKey);
        assertEq(uint256(moved.volume), uint256(used.volume), "today's volume carried (no reset by rotating)");
        assertEq(uint256(moved.day), uint256(used.day), "same day");
    }

    function test_rotateKey_movesPowerDelegationAndDelegatedVotes() public {
        uint256 power = agentVotes.powerOf(oldKey);
        uint256 delegated = agentVotes.powerOf(delegator);
        assertEq(agentVotes.getVotes(oldKey), power + delegated, "votes before");

        _rotate();
        assertEq(agentVotes.getVotes(newKey), power + delegated, "votes follow the key");
        assertEq(agentVotes.getVotes(oldKey), 0, "old key holds none");
        assertEq(agentVotes.powerOf(newKey), power, "power");
        assertEq(agentVotes.powerOf(oldKey), 0, "old power");
        assertEq(agentVotes.delegates(newKey), newKey, "self-delegation kept");
        assertEq(agentVotes.delegates(delegator), newKey, "the delegator's votes follow without it acting");
        assertEq(agentVotes.rotatedTo(oldKey), newKey, "forwarding");

        // Later changes land where the votes are: the delegator stakes more, the new key's votes grow by it.
        _fundAndStake(delegator, 10_000 * AITBC);
        assertEq(agentVotes.getVotes(newKey), power + agentVotes.powerOf(delegator), "delegator's new power");
        vm.prank(newKey);
        token.approve(address(registry), type(uint256).max);
        _fundAndStake(newKey, 10_000 * AITBC);
        assertEq(
            agentVotes.getVotes(newKey),
            agentVotes.powerOf(newKey) + agentVotes.powerOf(delegator),
            "agent's new power"
        );
        assertGe(agentVotes.powerOf(newKey), power, "grew");
    }

    function test_rotateKey_creditsMoveToTheNewKey() public {
        _earn(OLD_KEY, 3 * AITBC);
        assertEq(workflows.creditsOf(oldKey), 3 * AITBC, "earned");
        _rotate();

        vm.expectEmit(address(workflows));
        emit IWorkflows.CreditsMoved(oldKey, newKey, 3 * AITBC);
        workflows.moveCredits(oldKey); // anyone: they can only go to the agent
        assertEq(workflows.creditsOf(newKey), 3 * AITBC, "moved");
        assertEq(workflows.creditsOf(oldKey), 0, "none left");
        uint256 balance = token.balanceOf(newKey);
        vm.prank(newKey);
        workflows.claimCredits();
        assertEq(token.balanceOf(newKey), balance + 3 * AITBC, "claimed by the new key");
    }

    function test_moveCredits_badKeyReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsKeyNotRetired.selector, keeper));
        workflows.moveCredits(keeper);
        _rotate();
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsNothingToClaim.selector, oldKey));
        workflows.moveCredits(oldKey);
    }

    // ---------------------------------------------------------------- the old key is dead

    function test_attack_oldKeyClaimsCreditsAfterRotation() public {
        _earn(OLD_KEY, 3 * AITBC);
        _rotate();
        vm.prank(oldKey);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsKeyRetired.selector, oldKey, agentId));
        workflows.claimCredits();
        assertEq(workflows.creditsOf(oldKey), 3 * AITBC, "untouched, for the agent");
    }

    function test_attack_oldKeyListsServiceOrBids() public {
        _rotate();
        vm.prank(oldKey);
        vm.expectRevert(abi.encodeWithSelector(IServiceMarketplace.MarketplaceNotRegistered.selector, oldKey));
        marketplace.listService(_offer(keccak256("svc-thief")));

        vm.prank(client);
        uint256 workloadId = marketplace.postWorkload(_request(10, AITBC, 1 hours, 1 days, false));
        vm.prank(oldKey);
        vm.expectRevert(abi.encodeWithSelector(IServiceMarketplace.MarketplaceNotRegistered.selector, oldKey));
        marketplace.bid(workloadId, SERVICE, AITBC, bytes32(0));
        // The new key bids on the agent's existing service.
        vm.prank(newKey);
        marketplace.bid(workloadId, SERVICE, AITBC, bytes32(0));
    }

    function test_attack_oldKeyMovesStakeOrProfile() public {
        _rotate();
        vm.startPrank(oldKey);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotAgentOrOperator.selector, agentId, oldKey)
        );
        registry.requestUnstake(agentId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotAgentOrOperator.selector, agentId, oldKey)
        );
        registry.setEncryptionKey(agentId, keccak256("thief's key"));
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotRegistered.selector, oldKey));
        registry.stake(1);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotRegistered.selector, oldKey));
        registry.updateProfile("ipfs://thief", "https://thief.example", "6.6.6", new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryKeyRetired.selector, oldKey, agentId));
        registry.register(_registration(address(0x7E1F), 0));
        vm.expectRevert(abi.encodeWithSelector(IAgentConstitution.AgentConstitutionKeyRetired.selector, oldKey));
        token.transfer(client, 1);
        vm.stopPrank();
    }

    function test_attack_oldKeyVotesDelegates() public {
        _rotate();
        vm.prank(oldKey);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotRegistered.selector, oldKey));
        agentVotes.delegate(keeper);
        vm.prank(delegator);
        vm.expectRevert(abi.encodeWithSelector(IAgentVotes.AgentVotesInvalidDelegate.selector, oldKey));
        agentVotes.delegate(oldKey); // nobody can name the dead key as a delegate
        // The new key delegates.
        vm.prank(newKey);
        agentVotes.delegate(keeper);
        assertEq(agentVotes.delegates(newKey), keeper, "new key delegated");
    }

    function test_attack_oldKeySignsStepOrRunsExecution() public {
        // The agent as a keeper: an execution it claimed with the old key goes on with the new one.
        vm.prank(client);
        uint256 executionId = workflows.requestExecution(
            IWorkflows.ExecutionRequest({
                workflowId: workflowId,
                inputsHash: keccak256("inputs"),
                budget: 10 * AITBC,
                listingId: 0,
                keeper: address(0),
                maxListingFee: 0,
                maxKeeperFee: 0
            })
        );
        vm.prank(oldKey);
        workflows.claimExecution(executionId);
        _rotate();

        IWorkflows.StepRecord[] memory records = new IWorkflows.StepRecord[](1);
        records[0] = _stepRecord(workflows, KEEPER_KEY, executionId, 0, AITBC);
        vm.prank(oldKey);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsNotKeeper.selector, executionId, oldKey));
        workflows.recordSteps(executionId, records);

        // A step the old key signs as a provider is refused too.
        IWorkflows.StepRecord[] memory stolen = new IWorkflows.StepRecord[](1);
        stolen[0] = _stepRecord(workflows, OLD_KEY, executionId, 0, AITBC);
        vm.prank(newKey);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsProviderNotActive.selector, executionId, oldKey));
        workflows.recordSteps(executionId, stolen);

        vm.startPrank(newKey);
        workflows.recordSteps(executionId, records);
        workflows.completeExecution(executionId, keccak256("result"), 0);
        vm.stopPrank();
        assertEq(
            uint256(workflows.getExecution(executionId).status),
            uint256(IWorkflows.ExecutionStatus.Completed),
            "done"
        );
        assertEq(registry.openObligations(agentId), 0, "obligation closed by the new key");
    }

    function test_newKey_doesWhatTheAgentCould() public {
        _rotate();
        vm.startPrank(newKey);
        token.approve(address(registry), type(uint256).max);
        vm.stopPrank();
        _mintTo(newKey, 100);
        vm.startPrank(newKey);
        registry.stake(50 * AITBC);
        registry.updateProfile("ipfs://agent-v2", "https://agent.example", "2.0.0", new bytes32[](0));
        registry.setEncryptionKey(agentId, keccak256("new x25519 key"));
        marketplace.listService(_offer(keccak256("svc-new")));
        registry.requestUnstake(agentId, 10 * AITBC);
        vm.stopPrank();
        assertEq(keccak256(bytes(registry.getAgent(agentId).version)), keccak256("2.0.0"), "profile");
        assertEq(registry.getAgent(agentId).pendingWithdrawal, 10 * AITBC, "unstake requested");
        // The new key earns and claims directly.
        _earn(NEW_KEY, 2 * AITBC);
        vm.prank(newKey);
        assertEq(workflows.claimCredits(), 2 * AITBC, "claimed");
    }

    function test_rotateKey_twiceFollowsTheChain() public {
        _rotate();
        address third = address(0x7417D);
        vm.prank(operator);
        registry.rotateKey(agentId, third);
        assertEq(agentVotes.delegates(delegator), third, "delegation follows both rotations");
        assertEq(agentVotes.getVotes(third), agentVotes.powerOf(third) + agentVotes.powerOf(delegator), "votes");
        assertEq(registry.retiredAgentIdOf(newKey), agentId, "second key retired");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryKeyRetired.selector, oldKey, agentId));
        registry.rotateKey(agentId, oldKey); // never back to a retired key
    }

    // ---------------------------------------------------------------- bad input

    function test_rotateKey_onlyTheOperator() public {
        vm.prank(oldKey);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryNotOperator.selector, agentId, oldKey));
        registry.rotateKey(agentId, newKey);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryUnknownAgent.selector, 99));
        registry.rotateKey(99, newKey);
    }

    function test_rotateKey_badNewKeyReverts() public {
        vm.startPrank(operator);
        vm.expectRevert(IAgentRegistry.AgentRegistryZeroAddress.selector);
        registry.rotateKey(agentId, address(0));
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryOperatorIsAgent.selector, operator));
        registry.rotateKey(agentId, operator);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryAlreadyRegistered.selector, keeper, keeperId)
        );
        registry.rotateKey(agentId, keeper);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryAlreadyRegistered.selector, oldKey, agentId)
        );
        registry.rotateKey(agentId, oldKey);
        vm.stopPrank();
        vm.prank(guardian);
        humanOverride.freeze(newKey, "known bad key");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IAgentRegistry.AgentRegistryCallerFrozen.selector, newKey));
        registry.rotateKey(agentId, newKey);
    }

    function test_rotateKey_frozenOrDeniedAgentCannotEscape() public {
        vm.prank(guardian);
        humanOverride.deny(oldKey, ActionTypes.BID, 1 days);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentRegistry.AgentRegistryRotationDenied.selector, agentId, ActionTypes.BID)
        );
        registry.rotateKey(agentId, newKey);

        vm.prank(guardian);
        humanOverride.freeze(oldKey, "compromised");
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentRegistry.AgentRegistryNotActive.selector,
                agentId,
                IAgentRegistry.AgentStatus.Frozen
            )
        );
        registry.rotateKey(agentId, newKey);
    }

    function test_rotate_onlyTheRegistry() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                address(this),
                constitution.REGISTRY_ROLE()
            )
        );
        constitution.rotate(oldKey, newKey);
        vm.expectRevert(abi.encodeWithSelector(IAgentVotes.AgentVotesNotRegistry.selector, address(this)));
        agentVotes.onAgentRotated(oldKey, newKey);
    }

    function test_retiredRecord_cannotBeRevived() public {
        _rotate();
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IAgentConstitution.AgentConstitutionKeyRetired.selector, oldKey));
        constitution.setConstraints(oldKey, _defaultConstraints());
        address[] memory agents = new address[](1);
        agents[0] = oldKey;
        vm.expectRevert(abi.encodeWithSelector(IAgentConstitution.AgentConstitutionKeyRetired.selector, oldKey));
        constitution.clampToBounds(agents);
    }
}
