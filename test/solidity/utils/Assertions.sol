// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CheatCodes} from "./Vm.sol";

/// @title Assertions
/// @notice Minimal assertion helpers (forge-std is not a dependency). Each failure reverts with a custom error that
/// carries the message and both sides, so the test report shows what differed.
abstract contract Assertions is CheatCodes {
    error AssertionFailed(string message);
    error AssertionFailedUint(string message, uint256 left, uint256 right);
    error AssertionFailedInt(string message, int256 left, int256 right);
    error AssertionFailedAddress(string message, address left, address right);
    error AssertionFailedBytes32(string message, bytes32 left, bytes32 right);

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) revert AssertionFailed(message);
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) revert AssertionFailed(message);
    }

    function assertEq(uint256 left, uint256 right, string memory message) internal pure {
        if (left != right) revert AssertionFailedUint(message, left, right);
    }

    function assertEq(int256 left, int256 right, string memory message) internal pure {
        if (left != right) revert AssertionFailedInt(message, left, right);
    }

    function assertEq(address left, address right, string memory message) internal pure {
        if (left != right) revert AssertionFailedAddress(message, left, right);
    }

    function assertEq(bytes32 left, bytes32 right, string memory message) internal pure {
        if (left != right) revert AssertionFailedBytes32(message, left, right);
    }

    function assertEq(bool left, bool right, string memory message) internal pure {
        if (left != right) revert AssertionFailed(message);
    }

    function assertLe(uint256 left, uint256 right, string memory message) internal pure {
        if (left > right) revert AssertionFailedUint(message, left, right);
    }

    function assertGe(uint256 left, uint256 right, string memory message) internal pure {
        if (left < right) revert AssertionFailedUint(message, left, right);
    }

    function assertLt(uint256 left, uint256 right, string memory message) internal pure {
        if (left >= right) revert AssertionFailedUint(message, left, right);
    }

    /// @dev forge-std's `bound`: maps `x` into [min, max] keeping small values (and the edges) where they are, so
    /// the fuzzer's boundary values stay boundary values.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (min > max) revert AssertionFailedUint("bound: min > max", min, max);
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1; // no overflow: [0, type(uint256).max] returned above
        if (x <= 3 && size > x) return min + x;
        if (x >= type(uint256).max - 3 && size > type(uint256).max - x) return max - (type(uint256).max - x);
        if (x > max) {
            uint256 rem = (x - max) % size;
            return rem == 0 ? max : min + rem - 1;
        }
        uint256 remBelow = (min - x) % size;
        return remBelow == 0 ? min : max - remBelow + 1;
    }

    /// @dev `bound` for signed values, by shifting into the unsigned range.
    function bound(int256 x, int256 min, int256 max) internal pure returns (int256) {
        if (min > max) revert AssertionFailedInt("bound: min > max", min, max);
        uint256 ux = _shift(x);
        uint256 umin = _shift(min);
        uint256 umax = _shift(max);
        uint256 y = bound(ux, umin, umax);
        return y < 1 << 255 ? int256(y) + type(int256).min : int256(y - (1 << 255));
    }

    function _shift(int256 x) private pure returns (uint256) {
        return x < 0 ? (1 << 255) - (~uint256(x) + 1) : uint256(x) + (1 << 255);
    }
}
