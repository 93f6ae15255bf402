// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IAgentConstitution} from "../../../contracts/interfaces/IAgentConstitution.sol";
import {IAgentRegistry} from "../../../contracts/interfaces/IAgentRegistry.sol";
import {IAIToken} from "../../../contracts/interfaces/IAIToken.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {Assertions} from "./Assertions.sol";

/// @title CoreFixture
/// @notice Deploys HumanOverride, AgentConstitution, AIToken and AgentRegistry and wires them exactly as
/// deploy/modules/Core.ts does (same default parameters), with this contract as the deployer/admin.
abstract contract CoreFixture is Assertions {
    uint256 internal constant AITBC = 1e18;
    uint48 internal constant ALL_ACTIONS = type(uint48).max;

    // Core.ts defaults.
    uint256 internal constant SUPPLY_CAP = 1_000_000_000 * AITBC;
    uint256 internal constant REWARD_RATE = AITBC;
    uint256 internal constant MIN_STAKE = 1_000 * AITBC;
    uint256 internal constant BOND_BPS = 1_000;
    uint256 internal constant UNBONDING_DELAY = 7 days;
    uint96 internal constant BOUND_MAX_STAKE = uint96(10_000_000 * AITBC);
    uint96 internal constant BOUND_MAX_DAILY_VOLUME = uint96(10_000_000 * AITBC);
    uint48 internal constant BOUND_MAX_GAS_PER_DAY = 500_000_000;
    uint96 internal constant DEFAULT_MAX_STAKE = uint96(1_000_000 * AITBC);
    uint96 internal constant DEFAULT_MAX_DAILY_VOLUME = uint96(100_000 * AITBC);
    uint48 internal constant DEFAULT_MAX_GAS_PER_DAY = 100_000_000;

    /// @dev secp256k1 group order: private keys are in [1, N).
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    uint256 internal constant ATTESTOR_KEY = 0xA7735701;

    /// @dev A fixed, realistic start time (tests warp forward from here).
    uint256 internal constant START_TIME = 1_750_000_000;

    address internal guardian = address(0x6A4D1A4);
    address internal treasury = address(0x7EA5041);
    address internal attestor;

    HumanOverride internal humanOverride;
    AgentConstitution internal constitution;
    AIToken internal token;
    AgentRegistry internal registry;

    uint256 private _receiptNonce;

    function _deployCore() internal {
        vm.warp(START_TIME);
        attestor = vm.addr(ATTESTOR_KEY);

        address[] memory guardians = new address[](1);
        guardians[0] = guardian;
        address[] memory attestors = new address[](1);
        attestors[0] = attestor;

        humanOverride = new HumanOverride(address(this), guardians);
        constitution = new AgentConstitution(address(this), humanOverride, _defaultBounds(), _defaultConstraints());
        token = new AIToken(address(this), humanOverride, constitution, SUPPLY_CAP, REWARD_RATE, attestors);
        registry = new AgentRegistry(
            address(this),
            IERC20(address(token)),
            humanOverride,
            constitution,
            treasury,
            MIN_STAKE,
            BOND_BPS,
            UNBONDING_DELAY
        );

        // Wiring, as in Core.ts.
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(token));
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(registry));
        constitution.grantRole(constitution.REGISTRY_ROLE(), address(registry));
        token.grantRole(token.MODULE_ROLE(), address(registry));

        vm.label(address(humanOverride), "HumanOverride");
        vm.label(address(constitution), "AgentConstitution");
        vm.label(address(token), "AIToken");
        vm.label(address(registry), "AgentRegistry");
        vm.label(guardian, "guardian");
        vm.label(treasury, "treasury");
        vm.label(attestor, "attestor");
    }

    /// @dev For handlers: act on a core that a test contract deployed.
    function _useCore(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_
    ) internal {
        humanOverride = humanOverride_;
        constitution = constitution_;
        token = token_;
        registry = registry_;
        attestor = vm.addr(ATTESTOR_KEY);
    }

    function _defaultBounds() internal pure returns (IAgentConstitution.Constraints memory) {
        return
            IAgentConstitution.Constraints({
                maxStake: BOUND_MAX_STAKE,
                maxDailyVolume: BOUND_MAX_DAILY_VOLUME,
                maxGasPerDay: BOUND_MAX_GAS_PER_DAY,
                allowedActions: ALL_ACTIONS,
                humanApprovalActions: 0
            });
    }

    function _defaultConstraints() internal pure returns (IAgentConstitution.Constraints memory) {
        return
            IAgentConstitution.Constraints({
                maxStake: DEFAULT_MAX_STAKE,
                maxDailyVolume: DEFAULT_MAX_DAILY_VOLUME,
                maxGasPerDay: DEFAULT_MAX_GAS_PER_DAY,
                allowedActions: ALL_ACTIONS,
                humanApprovalActions: 0
            });
    }

    // ---------------------------------------------------------------- receipts

    /// @dev A receipt with a fresh id, valid for a day.
    function _receipt(address provider, uint256 units) internal returns (IAIToken.ComputeReceipt memory) {
        ++_receiptNonce;
        return
            IAIToken.ComputeReceipt({
                receiptId: keccak256(abi.encode("receipt", address(this), _receiptNonce)),
                provider: provider,
                client: address(0xC11E47),
                units: units,
                workHash: keccak256(abi.encode("work", _receiptNonce)),
                resultHash: keccak256(abi.encode("result", _receiptNonce)),
                deadline: uint64(block.timestamp + 1 days)
            });
    }

    /// @dev EIP-712 signature of `receipt` by `privateKey`, as r ‖ s ‖ v.
    function _sign(uint256 privateKey, IAIToken.ComputeReceipt memory receipt) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, token.hashReceipt(receipt));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Mints `units` × rate to `provider` through an attested receipt.
    function _mintTo(address provider, uint256 units) internal returns (uint256) {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        return token.mintFromReceipt(receipt, _sign(ATTESTOR_KEY, receipt));
    }

    // ---------------------------------------------------------------- agents

    function _registration(
        address operator,
        uint256 expectedDailyVolume
    ) internal pure returns (IAgentRegistry.Registration memory) {
        return
            IAgentRegistry.Registration({
                operator: operator,
                agentType: IAgentRegistry.AgentType.ServiceProvider,
                metadataURI: "ipfs://agent",
                endpoint: "https://agent.example",
                version: "1.0.0",
                capabilities: new bytes32[](0),
                expectedDailyVolume: expectedDailyVolume
            });
    }

    /// @dev The registry's required stake (minimum stake plus the security bond) for a declared daily volume.
    function _requiredStake(uint256 expectedDailyVolume) internal pure returns (uint256) {
        return MIN_STAKE + (expectedDailyVolume * BOND_BPS) / 10_000;
    }

    /// @dev Registers `agent` (operated by `operator`) and lets the registry pull its tokens. The declared
    /// `expectedDailyVolume` caps the agent's maxDailyVolume (enrolled at min(default, declared), and never set
    /// above it), so declare at least the daily limit a test needs.
    function _registerAgent(
        address agent,
        address operator,
        uint256 expectedDailyVolume
    ) internal returns (uint256 agentId) {
        vm.startPrank(agent);
        agentId = registry.register(_registration(operator, expectedDailyVolume));
        token.approve(address(registry), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Registers `agent` with `expectedDailyVolume` declared and stakes exactly the required bond: the agent
    /// is active ({IAgentRegistry-isActive}).
    function _registerBonded(
        address agent,
        address operator,
        uint256 expectedDailyVolume
    ) internal returns (uint256 agentId) {
        agentId = _registerAgent(agent, operator, expectedDailyVolume);
        _fundAndStake(agent, _requiredStake(expectedDailyVolume));
    }

    /// @dev Funds `agent` with at least `amount` and stakes exactly `amount`.
    function _fundAndStake(address agent, uint256 amount) internal {
        _mintTo(agent, (amount + REWARD_RATE - 1) / REWARD_RATE);
        vm.prank(agent);
        registry.stake(amount);
    }

    /// @dev Operator sets `agent`'s constitution.
    function _setConstraints(address agent, IAgentConstitution.Constraints memory constraints) internal {
        vm.prank(constitution.operatorOf(agent));
        constitution.setConstraints(agent, constraints);
    }
}
