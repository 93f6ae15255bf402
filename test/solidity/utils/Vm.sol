// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Vm
/// @notice The few Foundry cheatcodes these tests use (EDR implements them at the hevm cheatcode address).
interface Vm {
    function prank(address msgSender) external;

    function startPrank(address msgSender) external;

    function stopPrank() external;

    function warp(uint256 newTimestamp) external;

    function chainId(uint256 newChainId) external;

    function expectRevert() external;

    function expectRevert(bytes4 revertData) external;

    function expectRevert(bytes calldata revertData) external;

    /// @dev Matches the revert's selector only (its arguments may be anything).
    function expectPartialRevert(bytes4 revertData) external;

    /// @dev The next event the test emits must be emitted, in order, by `emitter` (all topics and data checked).
    function expectEmit(address emitter) external;

    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    function addr(uint256 privateKey) external pure returns (address keyAddr);

    function assume(bool condition) external pure;

    function label(address account, string calldata newLabel) external;
}

/// @notice Gives a contract the `vm` handle, as forge-std's `Test` does.
abstract contract CheatCodes {
    // solhint-disable-next-line const-name-snakecase
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
}
