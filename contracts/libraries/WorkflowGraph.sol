// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IWorkflows} from "../interfaces/IWorkflows.sol";

/// @title WorkflowGraph
/// @notice A workflow's steps as a graph of bitmasks: step `i`'s dependencies are a `uint256` whose bit `d` is set
/// when step `i` depends on step `d`. Checks that a definition is a DAG (size, known dependencies, no cycle), and
/// packs a proven workflow's dependencies the way the workflow circuit takes them.
/// @dev Pure functions on values the caller passes in; the caller stores the results. They revert with
/// {IWorkflows}' errors, so the Workflows contract's ABI lists the same errors as before this library existed.
library WorkflowGraph {
    /// @notice Most steps a workflow may have: one bit of a `uint256` mask each.
    uint256 internal constant MAX_STEPS = 256;
    /// @notice The workflow circuit's bounds (circuits/src/workflow.circom): steps of a proven workflow, dependencies
    /// of one of its steps, and steps per chunk proof.
    uint256 internal constant MAX_PROVEN_STEPS = 64;
    uint256 internal constant MAX_PROVEN_DEPS = 2;
    uint256 internal constant PROVEN_CHUNK = 32;
    /// @notice The circuit's dependency packing (circuits/lib/workflow.ts packDeps): per step MAX_PROVEN_DEPS slots
    /// of SLOT_BITS bits, each holding a dependency's index + 1 (0 for none); STEPS_PER_WORD steps per 252-bit
    /// word; DEPS_WORDS words per chunk.
    uint256 internal constant SLOT_BITS = 7;
    uint256 internal constant STEPS_PER_WORD = 18;
    uint256 internal constant DEPS_WORDS = 2;

    /// @notice Reverts unless a workflow of `count` steps has at least one and at most `max`.
    function requireSize(uint256 count, uint256 max) internal pure {
        if (count == 0) revert IWorkflows.WorkflowsNoSteps();
        if (count > max) revert IWorkflows.WorkflowsTooManySteps(count, max);
    }

    /// @notice The dependency mask of step `step` of a `count`-step workflow from its list of dependencies.
    /// @dev Reverts on an index past the last step and on a step that depends on itself (the shortest cycle; longer
    /// ones are {requireAcyclic}'s). Duplicates are harmless: they set the same bit.
    function dependencyMask(
        uint16[] calldata dependsOn,
        uint256 step,
        uint256 count
    ) internal pure returns (uint256 mask) {
        for (uint256 k = 0; k < dependsOn.length; ++k) {
            uint256 dep = dependsOn[k];
            if (dep >= count) revert IWorkflows.WorkflowsUnknownDependency(step, dep);
            if (dep == step) revert IWorkflows.WorkflowsCycle(step);
            mask |= 1 << dep;
        }
    }

    /// @notice Reverts with the lowest step on or behind a cycle unless the graph `deps` (one mask per step) is
    /// acyclic.
    /// @dev Kahn's algorithm on bitmasks: each pass marks every step whose dependencies are all marked. A graph
    /// listed in topological order finishes in one pass; a pass that marks nothing means the rest is a cycle.
    function requireAcyclic(uint256[] memory deps) internal pure {
        uint256 count = deps.length;
        uint256 all = allSteps(count);
        uint256 done;
        while (done != all) {
            uint256 before = done;
            for (uint256 i = 0; i < count; ++i) {
                if (done & (1 << i) == 0 && deps[i] & ~done == 0) done |= 1 << i;
            }
            if (done == before) {
                uint256 i = 0;
                while (done & (1 << i) != 0) ++i;
                revert IWorkflows.WorkflowsCycle(i);
            }
        }
    }

    /// @notice The mask of steps 0 .. count - 1 (count <= MAX_STEPS; all ones for 256).
    function allSteps(uint256 count) internal pure returns (uint256) {
        return count == MAX_STEPS ? type(uint256).max : (uint256(1) << count) - 1;
    }

    /// @notice Step `step`'s dependencies in the workflow circuit's packing: the bits to OR into packed word
    /// `index` (word `index % DEPS_WORDS` of chunk `index / DEPS_WORDS`). `word` is 0 when the step has none.
    /// @dev Checks the proven levels' rules: at most MAX_PROVEN_DEPS dependencies, strictly ascending, each an
    /// earlier step (so a proven workflow is listed in topological order). `step` < MAX_PROVEN_STEPS.
    function packProvenDependencies(
        uint16[] calldata dependsOn,
        uint256 step
    ) internal pure returns (uint256 index, uint256 word) {
        uint256 count = dependsOn.length;
        if (count == 0) return (0, 0);
        if (count > MAX_PROVEN_DEPS) revert IWorkflows.WorkflowsInvalidSpec("dependsOn");
        uint256 local = step % PROVEN_CHUNK;
        uint256 shift = (local % STEPS_PER_WORD) * MAX_PROVEN_DEPS * SLOT_BITS;
        for (uint256 k = 0; k < count; ++k) {
            uint256 dep = dependsOn[k];
            if (dep >= step || (k > 0 && dep <= dependsOn[k - 1])) revert IWorkflows.WorkflowsInvalidSpec("dependsOn");
            word |= (dep + 1) << (shift + k * SLOT_BITS);
        }
        index = chunkWordIndex(step / PROVEN_CHUNK) + local / STEPS_PER_WORD;
    }

    /// @notice The index of chunk `chunk`'s first packed word.
    function chunkWordIndex(uint256 chunk) internal pure returns (uint256) {
        return chunk * DEPS_WORDS;
    }
}
