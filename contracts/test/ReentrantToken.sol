// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title ReentrantToken
/// @notice TEST-ONLY. Never deploy it anywhere real: anyone can mint, and its transfers call out to an
/// arbitrary address with arbitrary calldata.
/// @dev An ERC-20 whose `transfer` and `transferFrom`, once armed, call `hookTarget` with `hookCallData` right after
/// moving the balance, that is in the middle of the calling contract's own external call, as a token with
/// transfer hooks (ERC-777 style) or a hostile token would. The hook fires once per {arm}.
/// - {Mode.Bubble}: the re-entrant call's revert propagates, so the whole outer transaction reverts with it.
/// - {Mode.Catch}: the re-entrant call's revert is caught and kept in {lastRevertData}, and the outer call
///   goes on; this shows what the outer call does once the re-entry has failed (e.g. pays exactly once).
/// The re-entrant call's `msg.sender` is this token in both modes.
contract ReentrantToken is ERC20 {
    enum Mode {
        Bubble,
        Catch
    }

    error ReentrantTokenOnlySelf(address caller);

    address public hookTarget;
    bytes public hookCallData;
    bool public armed;
    Mode public mode;
    /// @notice Re-entrant calls that succeeded.
    uint256 public reentrySuccesses;
    /// @notice Re-entrant calls that reverted (Catch mode), and the last revert data.
    uint256 public reentryFailures;
    bytes public lastRevertData;

    event Reentered(address indexed target, bool success, bytes data);

    constructor() ERC20("Reentrant test token", "REENT") {}

    /// @notice Anyone mints: test-only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes the next transfer or transferFrom call `target_` with `callData_`.
    function arm(address target_, bytes calldata callData_, Mode mode_) external {
        hookTarget = target_;
        hookCallData = callData_;
        mode = mode_;
        armed = true;
    }

    function disarm() external {
        armed = false;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        super.transfer(to, value);
        _hook();
        return true;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        super.transferFrom(from, to, value);
        _hook();
        return true;
    }

    /// @notice The re-entrant call itself; external only so that Catch mode can try/catch it.
    function reenter() external returns (bytes memory) {
        if (msg.sender != address(this)) revert ReentrantTokenOnlySelf(msg.sender);
        return Address.functionCall(hookTarget, hookCallData);
    }

    function _hook() private {
        if (!armed) return;
        armed = false;
        if (mode == Mode.Bubble) {
            bytes memory result = Address.functionCall(hookTarget, hookCallData); // bubbles the target's revert
            ++reentrySuccesses;
            emit Reentered(hookTarget, true, result);
        } else {
            try this.reenter() returns (bytes memory result) {
                ++reentrySuccesses;
                emit Reentered(hookTarget, true, result);
            } catch (bytes memory reason) {
                ++reentryFailures;
                lastRevertData = reason;
                emit Reentered(hookTarget, false, reason);
            }
        }
    }
}
