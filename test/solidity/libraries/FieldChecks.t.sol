// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SNARK_SCALAR_FIELD} from "../../../contracts/interfaces/IZkVerifiers.sol";
import {FieldChecks} from "../../../contracts/libraries/FieldChecks.sol";
import {Assertions} from "../utils/Assertions.sol";

/// @notice FieldChecks at the field's edges, and equivalence with the inline checks it replaced
/// (`x >= SNARK_SCALAR_FIELD` and `x == 0 || x >= SNARK_SCALAR_FIELD`).
contract FieldChecksTest is Assertions {
    /// @dev The BN254 scalar field's order r, written out: the constant the verifiers are generated against.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    function test_fieldOrder_isBn254ScalarField() public pure {
        assertEq(SNARK_SCALAR_FIELD, R, "SNARK_SCALAR_FIELD is r");
    }

    function test_isElement_zeroIs() public pure {
        assertTrue(FieldChecks.isElement(0), "0 is a field element");
    }

    function test_isElement_orderMinusOneIs() public pure {
        assertTrue(FieldChecks.isElement(R - 1), "r - 1 is a field element");
    }

    function test_isElement_orderIsNot() public pure {
        assertFalse(FieldChecks.isElement(R), "r is not a field element");
    }

    function test_isElement_maxUintIsNot() public pure {
        assertFalse(FieldChecks.isElement(type(uint256).max), "2^256 - 1 is not a field element");
    }

    function test_isNonZeroElement_zeroIsNot() public pure {
        assertFalse(FieldChecks.isNonZeroElement(0), "0 is refused");
    }

    function test_isNonZeroElement_oneAndOrderMinusOneAre() public pure {
        assertTrue(FieldChecks.isNonZeroElement(1), "1");
        assertTrue(FieldChecks.isNonZeroElement(R - 1), "r - 1");
    }

    function test_isNonZeroElement_orderIsNot() public pure {
        assertFalse(FieldChecks.isNonZeroElement(R), "r is refused");
    }

    function testFuzz_isElement_belowOrder(uint256 x) public pure {
        x = bound(x, 0, R - 1);
        assertTrue(FieldChecks.isElement(x), "below r");
    }

    function testFuzz_isElement_atOrAboveOrder(uint256 x) public pure {
        x = bound(x, R, type(uint256).max);
        assertFalse(FieldChecks.isElement(x), "at or above r");
    }

    function testFuzz_isElement_matchesInlineCheck(uint256 x) public pure {
        bool inlineRefused = x >= SNARK_SCALAR_FIELD;
        assertEq(!FieldChecks.isElement(x), inlineRefused, "same decision as the inline check");
    }

    function testFuzz_isNonZeroElement_matchesInlineCheck(uint256 x) public pure {
        bool inlineRefused = x == 0 || x >= SNARK_SCALAR_FIELD;
        assertEq(!FieldChecks.isNonZeroElement(x), inlineRefused, "same decision as the inline check");
    }

    function testFuzz_isNonZeroElement_isElementExceptZero(uint256 x) public pure {
        assertEq(FieldChecks.isNonZeroElement(x), x != 0 && FieldChecks.isElement(x), "isElement minus zero");
    }
}
