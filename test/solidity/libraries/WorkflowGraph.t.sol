// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IWorkflows} from "../../../contracts/interfaces/IWorkflows.sol";
import {WorkflowGraph} from "../../../contracts/libraries/WorkflowGraph.sol";
import {Assertions} from "../utils/Assertions.sol";

/// @notice Exposes WorkflowGraph's internal functions as external calls (so reverts can be expected), next to the
/// inline code they replaced in Workflows.defineWorkflow and Workflows._packProvenDependencies, as references.
contract WorkflowGraphHarness {
    function requireSize(uint256 count, uint256 max) external pure {
        WorkflowGraph.requireSize(count, max);
    }

    function dependencyMask(uint16[] calldata dependsOn, uint256 step, uint256 count) external pure returns (uint256) {
        return WorkflowGraph.dependencyMask(dependsOn, step, count);
    }

    function requireAcyclic(uint256[] memory deps) external pure {
        WorkflowGraph.requireAcyclic(deps);
    }

    function packProvenDependencies(
        uint16[] calldata dependsOn,
        uint256 step
    ) external pure returns (uint256 index, uint256 word) {
        return WorkflowGraph.packProvenDependencies(dependsOn, step);
    }

    /// @dev The loop defineWorkflow ran inline before WorkflowGraph.dependencyMask.
    function inlineDependencyMask(
        uint16[] calldata dependsOn,
        uint256 i,
        uint256 count
    ) external pure returns (uint256 mask) {
        for (uint256 k = 0; k < dependsOn.length; ++k) {
            uint256 dep = dependsOn[k];
            if (dep >= count) revert IWorkflows.WorkflowsUnknownDependency(i, dep);
            if (dep == i) revert IWorkflows.WorkflowsCycle(i);
            mask |= 1 << dep;
        }
    }

    /// @dev Workflows._packProvenDependencies before WorkflowGraph, with the storage write turned into a return.
    function inlinePackProvenDependencies(
        uint16[] calldata dependsOn,
        uint256 step
    ) external pure returns (uint256 index, uint256 word) {
        uint256 count = dependsOn.length;
        if (count == 0) return (0, 0);
        if (count > 2) revert IWorkflows.WorkflowsInvalidSpec("dependsOn");
        uint256 local = step % 32;
        uint256 shift = (local % 18) * 2 * 7;
        for (uint256 k = 0; k < count; ++k) {
            uint256 dep = dependsOn[k];
            if (dep >= step || (k > 0 && dep <= dependsOn[k - 1])) revert IWorkflows.WorkflowsInvalidSpec("dependsOn");
            word |= (dep + 1) << (shift + k * 7);
        }
        index = (step / 32) * 2 + local / 18;
    }
}

contract WorkflowGraphTest is Assertions {
    WorkflowGraphHarness internal graph;

    function setUp() public {
        graph = new WorkflowGraphHarness();
    }

    function _list(uint256 a) internal pure returns (uint16[] memory l) {
        l = new uint16[](1);
        l[0] = uint16(a);
    }

    function _list(uint256 a, uint256 b) internal pure returns (uint16[] memory l) {
        l = new uint16[](2);
        (l[0], l[1]) = (uint16(a), uint16(b));
    }

    /// @dev A random list of up to 4 entries, each below `limit` (or anything when `limit` is 0).
    function _randomList(uint256 seed, uint256 limit) internal pure returns (uint16[] memory l) {
        l = new uint16[](seed % 5);
        for (uint256 k = 0; k < l.length; ++k) {
            uint256 r = uint256(keccak256(abi.encode(seed, k)));
            l[k] = uint16(limit == 0 ? r : r % limit);
        }
    }

    /// @dev Calls `data` on the harness and returns whether it succeeded, with its return or revert data.
    function _try(bytes memory data) internal view returns (bool ok, bytes memory out) {
        (ok, out) = address(graph).staticcall(data);
    }

    // ---------------------------------------------------------------- requireSize

    function test_requireSize_zeroSteps_reverts() public {
        vm.expectRevert(IWorkflows.WorkflowsNoSteps.selector);
        graph.requireSize(0, 256);
    }

    function test_requireSize_overMax_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsTooManySteps.selector, 65, 64));
        graph.requireSize(65, 64);
    }

    function testFuzz_requireSize_withinBounds_passes(uint256 count, uint256 max) public view {
        max = bound(max, 1, 256);
        count = bound(count, 1, max);
        graph.requireSize(count, max);
    }

    // ---------------------------------------------------------------- dependencyMask

    function test_dependencyMask_noDependencies_isZero() public view {
        assertEq(graph.dependencyMask(new uint16[](0), 3, 5), 0, "no dependencies");
    }

    function test_dependencyMask_setsOneBitPerDependency() public view {
        assertEq(graph.dependencyMask(_list(0, 2), 3, 5), 0x5, "steps 0 and 2");
        assertEq(graph.dependencyMask(_list(4), 3, 5), 0x10, "a later step is fine here (cycles are checked later)");
        assertEq(graph.dependencyMask(_list(255), 0, 256), 1 << 255, "the last of 256 steps");
    }

    function test_dependencyMask_duplicates_setTheSameBit() public view {
        assertEq(graph.dependencyMask(_list(1, 1), 3, 5), 0x2, "duplicate");
    }

    function test_dependencyMask_unknownDependency_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsUnknownDependency.selector, 2, 5));
        graph.dependencyMask(_list(1, 5), 2, 5);
    }

    function test_dependencyMask_selfDependency_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsCycle.selector, 2));
        graph.dependencyMask(_list(0, 2), 2, 5);
    }

    function test_dependencyMask_firstBadEntryWins() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsCycle.selector, 2));
        graph.dependencyMask(_list(2, 9), 2, 5);
    }

    /// @dev Same mask or same revert data as the inline loop, for any list (bad entries included).
    function testFuzz_dependencyMask_matchesInlineLoop(uint256 seed, uint256 step, uint256 count) public view {
        count = bound(count, 1, 256);
        step = bound(step, 0, count - 1);
        uint16[] memory list = _randomList(seed, seed % 3 == 0 ? 0 : count + 2);
        (bool okA, bytes memory outA) = _try(abi.encodeCall(graph.dependencyMask, (list, step, count)));
        (bool okB, bytes memory outB) = _try(abi.encodeCall(graph.inlineDependencyMask, (list, step, count)));
        assertEq(okA, okB, "both succeed or both revert");
        assertEq(keccak256(outA), keccak256(outB), "same mask or same error");
    }

    // ---------------------------------------------------------------- requireAcyclic and allSteps

    function test_allSteps_edges() public pure {
        assertEq(WorkflowGraph.allSteps(0), 0, "0 steps");
        assertEq(WorkflowGraph.allSteps(1), 1, "1 step");
        assertEq(WorkflowGraph.allSteps(255), type(uint256).max >> 1, "255 steps");
        assertEq(WorkflowGraph.allSteps(256), type(uint256).max, "256 steps");
    }

    function test_requireAcyclic_chainInReverseOrder_passes() public view {
        // 0 <- 1 <- 2 <- 3 listed backwards: step i depends on step i + 1 (several passes).
        uint256[] memory deps = new uint256[](4);
        (deps[0], deps[1], deps[2]) = (1 << 1, 1 << 2, 1 << 3);
        graph.requireAcyclic(deps);
    }

    function test_requireAcyclic_twoCycle_revertsWithLowestStep() public {
        uint256[] memory deps = new uint256[](4);
        (deps[1], deps[2]) = (1 << 2, 1 << 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsCycle.selector, 1));
        graph.requireAcyclic(deps);
    }

    function test_requireAcyclic_stepBehindCycle_isReported() public {
        // Step 0 depends on the cycle 2 <-> 3: nothing at or behind the cycle can run; 0 is the lowest.
        uint256[] memory deps = new uint256[](4);
        (deps[0], deps[2], deps[3]) = (1 << 2, 1 << 3, 1 << 2);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsCycle.selector, 0));
        graph.requireAcyclic(deps);
    }

    function test_requireAcyclic_256Steps_passes() public view {
        uint256[] memory deps = new uint256[](256);
        for (uint256 i = 1; i < 256; ++i) deps[i] = 1 << (i - 1);
        graph.requireAcyclic(deps);
    }

    /// @dev A random graph on up to 16 steps (edges in both directions, so cycles are common) against a
    /// reference on the transitive closure: a step fails when it lies on a cycle or depends, directly or not, on
    /// one; the revert names the lowest such step, and a graph without one passes.
    function testFuzz_requireAcyclic_matchesTransitiveClosure(uint256 n, uint256 seed) public view {
        n = bound(n, 1, 16);
        uint256[] memory deps = new uint256[](n);
        uint256 all = (uint256(1) << n) - 1;
        for (uint256 i = 0; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // Sparse: ~1/8 density, so both outcomes are frequent.
            deps[i] = r & (r >> 64) & (r >> 128) & all & ~(uint256(1) << i);
        }
        uint256[] memory reach = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) reach[i] = deps[i];
        for (uint256 k = 0; k < n; ++k) {
            for (uint256 i = 0; i < n; ++i) if (reach[i] & (1 << k) != 0) reach[i] |= reach[k];
        }
        uint256 onCycle;
        for (uint256 i = 0; i < n; ++i) if (reach[i] & (1 << i) != 0) onCycle |= 1 << i;
        uint256 lowestBad = type(uint256).max;
        for (uint256 i = n; i > 0; --i) {
            if (onCycle & (1 << (i - 1)) != 0 || reach[i - 1] & onCycle != 0) lowestBad = i - 1;
        }
        (bool ok, bytes memory out) = _try(abi.encodeCall(graph.requireAcyclic, (deps)));
        if (lowestBad == type(uint256).max) {
            assertTrue(ok, "acyclic graph passes");
        } else {
            assertFalse(ok, "cyclic graph reverts");
            assertEq(
                keccak256(out),
                keccak256(abi.encodeWithSelector(IWorkflows.WorkflowsCycle.selector, lowestBad)),
                "names the lowest step on or behind a cycle"
            );
        }
    }

    // ---------------------------------------------------------------- packProvenDependencies

    function test_packProvenDependencies_noDependencies_isZero() public view {
        (uint256 index, uint256 word) = graph.packProvenDependencies(new uint16[](0), 7);
        assertEq(index, 0, "index");
        assertEq(word, 0, "word");
    }

    /// @dev Expected words from circuits/lib/workflow.ts packDeps for steps 5: [1, 3], 20: [19], 33: [0, 32] and
    /// 63: [61, 62] (chunk 0 words 0x80800000000000000000, 0x140000000; chunk 1 0x4204000, 0x7ef8 << 176).
    function test_packProvenDependencies_matchesCircuitPacking() public view {
        (uint256 index, uint256 word) = graph.packProvenDependencies(_list(1, 3), 5);
        assertEq(index, 0, "step 5: chunk 0 word 0");
        assertEq(word, 0x80800000000000000000, "step 5");
        (index, word) = graph.packProvenDependencies(_list(19), 20);
        assertEq(index, 1, "step 20: chunk 0 word 1");
        assertEq(word, 0x140000000, "step 20");
        (index, word) = graph.packProvenDependencies(_list(0, 32), 33);
        assertEq(index, 2, "step 33: chunk 1 word 0");
        assertEq(word, 0x4204000, "step 33");
        (index, word) = graph.packProvenDependencies(_list(61, 62), 63);
        assertEq(index, 3, "step 63: chunk 1 word 1");
        assertEq(word, 0x7ef8000000000000000000000000000000000000000000000, "step 63");
    }

    function test_packProvenDependencies_tooMany_reverts() public {
        uint16[] memory list = new uint16[](3);
        (list[0], list[1], list[2]) = (0, 1, 2);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsInvalidSpec.selector, "dependsOn"));
        graph.packProvenDependencies(list, 5);
    }

    function test_packProvenDependencies_notAscending_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsInvalidSpec.selector, "dependsOn"));
        graph.packProvenDependencies(_list(3, 1), 5);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsInvalidSpec.selector, "dependsOn"));
        graph.packProvenDependencies(_list(2, 2), 5);
    }

    function test_packProvenDependencies_laterOrSelf_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsInvalidSpec.selector, "dependsOn"));
        graph.packProvenDependencies(_list(5), 5);
        vm.expectRevert(abi.encodeWithSelector(IWorkflows.WorkflowsInvalidSpec.selector, "dependsOn"));
        graph.packProvenDependencies(_list(6), 5);
    }

    /// @dev Same index and word, or the same revert, as the private function it replaced, for any list.
    function testFuzz_packProvenDependencies_matchesInlineCode(uint256 seed, uint256 step) public view {
        step = bound(step, 0, WorkflowGraph.MAX_PROVEN_STEPS - 1);
        uint16[] memory list = _randomList(seed, step + 2);
        if (seed % 2 == 0) {
            // Often a valid list: sorted ascending without duplicates.
            for (uint256 k = 0; k < list.length; ++k) list[k] = uint16(k + ((seed >> 8) % (step + 1)));
        }
        (bool okA, bytes memory outA) = _try(abi.encodeCall(graph.packProvenDependencies, (list, step)));
        (bool okB, bytes memory outB) = _try(abi.encodeCall(graph.inlinePackProvenDependencies, (list, step)));
        assertEq(okA, okB, "both succeed or both revert");
        assertEq(keccak256(outA), keccak256(outB), "same packing or same error");
    }

    /// @dev Every dependency slot decodes back to its dependency: slot k of a step holds dependsOn[k] + 1.
    function testFuzz_packProvenDependencies_roundTrips(uint256 step, uint256 a, uint256 b) public view {
        step = bound(step, 2, WorkflowGraph.MAX_PROVEN_STEPS - 1);
        a = bound(a, 0, step - 2);
        b = bound(b, a + 1, step - 1);
        (uint256 index, uint256 word) = graph.packProvenDependencies(_list(a, b), step);
        uint256 local = step % WorkflowGraph.PROVEN_CHUNK;
        assertEq(index, (step / WorkflowGraph.PROVEN_CHUNK) * 2 + local / 18, "word index");
        uint256 shift = (local % 18) * 14;
        assertEq((word >> shift) & 0x7f, a + 1, "slot 0");
        assertEq((word >> (shift + 7)) & 0x7f, b + 1, "slot 1");
        assertEq(word & ~(uint256(0x3fff) << shift), 0, "nothing outside the step's slots");
        assertLt(word, uint256(1) << 252, "fits a 252-bit word");
    }
}
