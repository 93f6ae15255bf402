// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BaselineERC20
/// @notice TEST ONLY, never deployed: a plain OpenZeppelin ERC-20 with an open mint, the gas baseline that the
/// benchmark compares AIToken's transfers with (the cost of the emergency stop and constitution hooks).
contract BaselineERC20 is ERC20 {
    constructor() ERC20("Baseline", "BASE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
