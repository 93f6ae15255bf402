// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SNARK_SCALAR_FIELD} from "../interfaces/IZkVerifiers.sol";

/// @title FieldChecks
/// @notice Whether a value can be a public signal of our Groth16 circuits: an element of the BN254 scalar field.
/// @dev The generated verifiers return false for a signal at or above the field's order, so a value that reaches a
/// proof unchecked fails late, with no reason, and only once someone has paid for a proof. The contracts check
/// such values where they are first given (a workflow's step model, a workload's model and input, a receipt root)
/// and revert with an error that names the field. Each caller keeps its own error; this library only decides.
library FieldChecks {
    /// @notice True when `value` is below the BN254 scalar field's order (zero included).
    function isElement(uint256 value) internal pure returns (bool) {
        return value < SNARK_SCALAR_FIELD;
    }

    /// @notice True when `value` is a non-zero field element: a commitment that must be set (zero is how the
    /// contracts say "none").
    function isNonZeroElement(uint256 value) internal pure returns (bool) {
        return value != 0 && value < SNARK_SCALAR_FIELD;
    }
}
