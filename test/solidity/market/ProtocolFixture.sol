// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IServiceMarketplace} from "../../../contracts/interfaces/IServiceMarketplace.sol";
import {IWorkflows} from "../../../contracts/interfaces/IWorkflows.sol";
import {ServiceMarketplace} from "../../../contracts/market/ServiceMarketplace.sol";
import {WorkflowLedger} from "../../../contracts/workflows/WorkflowLedger.sol";
import {Workflows} from "../../../contracts/workflows/Workflows.sol";
import {InferenceVerifier} from "../../../contracts/zk/verifiers/InferenceVerifier.sol";
import {WorkflowVerifier} from "../../../contracts/zk/verifiers/WorkflowVerifier.sol";
import {IInferenceVerifier, IWorkflowVerifier} from "../../../contracts/interfaces/IZkVerifiers.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";

/// @title ProtocolFixture
/// @notice The core of {CoreFixture} plus the ServiceMarketplace and Workflows, deployed and wired exactly as
/// deploy/modules/Protocol.ts does (same default parameters; the
/// marketplace gets no COORDINATOR_ROLE: settlement issues a compute receipt instead of minting), with this contract as the deployer/admin.
abstract contract ProtocolFixture is CoreFixture {
    // Protocol.ts defaults.
    uint256 internal constant FEE_BPS = 100;
    uint256 internal constant CHALLENGE_WINDOW = 1 days;
    uint256 internal constant TIMEOUT_SLASH_BPS = 1_000;
    uint256 internal constant LEDGER_WINDOW = 1 days;
    uint256 internal constant KEEPER_BOND = 100 * AITBC;
    uint256 internal constant CHALLENGE_BOND = 10 * AITBC;

    ServiceMarketplace internal marketplace;
    Workflows internal workflows;
    WorkflowLedger internal ledger;

    function _deployProtocol() internal {
        _deployCore();
        IInferenceVerifier inferenceVerifier = IInferenceVerifier(address(new InferenceVerifier()));
        IWorkflowVerifier workflowVerifier = IWorkflowVerifier(address(new WorkflowVerifier()));
        marketplace = new ServiceMarketplace(
            address(this),
            IERC20(address(token)),
            registry,
            humanOverride,
            constitution,
            inferenceVerifier,
            FEE_BPS,
            CHALLENGE_WINDOW,
            TIMEOUT_SLASH_BPS
        );
        ledger = new WorkflowLedger(
            IERC20(address(token)),
            registry,
            humanOverride,
            constitution,
            inferenceVerifier,
            LEDGER_WINDOW,
            KEEPER_BOND,
            CHALLENGE_BOND
        );
        workflows = new Workflows(
            IERC20(address(token)),
            registry,
            humanOverride,
            constitution,
            workflowVerifier,
            inferenceVerifier,
            address(ledger)
        );
        ledger.bind(workflows);

        // Wiring, as in Protocol.ts.
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(marketplace));
        constitution.grantRole(constitution.ENFORCER_ROLE(), address(workflows));
        token.grantRole(token.MODULE_ROLE(), address(marketplace));
        token.grantRole(token.MODULE_ROLE(), address(workflows));
        registry.grantRole(registry.SLASHER_ROLE(), address(marketplace));
        registry.grantRole(registry.SLASHER_ROLE(), address(ledger));
        registry.grantRole(registry.REPUTATION_ROLE(), address(marketplace));
        registry.grantRole(registry.OBLIGATION_ROLE(), address(marketplace));
        registry.grantRole(registry.OBLIGATION_ROLE(), address(workflows));

        vm.label(address(marketplace), "ServiceMarketplace");
        vm.label(address(workflows), "Workflows");
        vm.label(address(ledger), "WorkflowLedger");
    }
}

/// @title ProtocolActors
/// @notice Helpers shared by the marketplace/workflows tests and handlers: provider agents that hold a signing key,
/// service offers, workload requests, result and step signatures.
abstract contract ProtocolActors is CoreFixture {
    /// @dev What every test agent declares: its bond is 10% of it, and it caps the agent's daily volume.
    uint256 internal constant AGENT_VOLUME = 100_000 * AITBC;
    /// @dev Staked by every test agent: far above the required MIN_STAKE + 10% of AGENT_VOLUME (11,000 AITBC), so
    /// timeout slashes never make it inactive within a run.
    uint256 internal constant AGENT_STAKE = 200_000 * AITBC;

    /// @dev Registers the agent of `key` (operated by `operator`, which must differ), stakes {AGENT_STAKE} and, when
    /// `serviceId` is non-zero, lists a "inference" service with ample capacity on `market`.
    function _setupProvider(
        IServiceMarketplace market,
        uint256 key,
        address operator,
        bytes32 serviceId
    ) internal returns (address agent, uint256 agentId) {
        agent = vm.addr(key);
        agentId = _registerAgent(agent, operator, AGENT_VOLUME);
        _fundAndStake(agent, AGENT_STAKE);
        if (serviceId != bytes32(0)) {
            vm.prank(agent);
            market.listService(_offer(serviceId));
        }
    }

    function _offer(bytes32 serviceId) internal pure returns (IServiceMarketplace.ServiceOffer memory) {
        return
            IServiceMarketplace.ServiceOffer({
                serviceId: serviceId,
                serviceName: "inference",
                pricePerUnit: AITBC,
                maxCapacity: 1e12,
                currentLoad: 0,
                modelHash: bytes32(0),
                minAccuracy: 0
            });
    }

    function _request(
        uint256 units,
        uint256 maxPricePerUnit,
        uint256 biddingPeriod,
        uint256 executionPeriod,
        bool reopenOnTimeout
    ) internal view returns (IServiceMarketplace.WorkloadRequest memory) {
        uint64 bidDeadline = uint64(block.timestamp + biddingPeriod);
        return
            IServiceMarketplace.WorkloadRequest({
                serviceType: keccak256(bytes("inference")),
                modelHash: bytes32(0),
                units: units,
                maxPricePerUnit: maxPricePerUnit,
                bidDeadline: bidDeadline,
                executionDeadline: uint64(bidDeadline + executionPeriod),
                verification: IServiceMarketplace.VerificationLevel.Basic,
                reopenOnTimeout: reopenOnTimeout,
                inputHash: bytes32(0)
            });
    }

    /// @dev `key`'s signature (r ‖ s ‖ v) of a workload result.
    function _signResult(
        IServiceMarketplace market,
        uint256 key,
        uint256 workloadId,
        uint32 round,
        bytes32 resultHash
    ) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, market.hashResult(workloadId, round, resultHash));
        return abi.encodePacked(r, s, v);
    }

    /// @dev A step record signed by `key`.
    function _stepRecord(
        IWorkflows wf,
        uint256 key,
        uint256 executionId,
        uint16 step,
        uint256 cost
    ) internal view returns (IWorkflows.StepRecord memory record) {
        record.step = step;
        record.provider = vm.addr(key);
        record.inputHash = keccak256(abi.encode("in", executionId, step));
        record.outputHash = keccak256(abi.encode("out", executionId, step));
        record.cost = cost;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            key,
            wf.hashStepResult(executionId, step, record.inputHash, record.outputHash, cost)
        );
        record.signature = abi.encodePacked(r, s, v);
    }

    /// @dev A workflow spec of `masks.length` steps, step i depending on the set bits of masks[i].
    function _spec(uint256[] memory masks) internal pure returns (IWorkflows.WorkflowSpec memory spec) {
        spec.name = "fuzz workflow";
        spec.maxExecutionTime = 3 days;
        spec.maxBudget = 1_000_000 * AITBC;
        spec.verification = IWorkflows.VerificationLevel.Basic;
        spec.steps = new IWorkflows.StepSpec[](masks.length);
        for (uint256 i = 0; i < masks.length; ++i) {
            spec.steps[i].dependsOn = _bits(masks[i]);
        }
    }

    /// @dev The set bits of `mask`, ascending.
    function _bits(uint256 mask) internal pure returns (uint16[] memory list) {
        uint256 count;
        for (uint256 m = mask; m != 0; m &= m - 1) ++count;
        list = new uint16[](count);
        uint256 k;
        for (uint256 b = 0; b < 256 && k < count; ++b) {
            if (mask & (1 << b) != 0) list[k++] = uint16(b);
        }
    }
}
