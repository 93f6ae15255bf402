// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {CoreFixture} from "./CoreFixture.sol";

/// @title HandlerBase
/// @notice Common ground of the invariant handlers: the deployed core, the receipt helpers of {CoreFixture}, and a
/// clock of its own. Each call first warps to {currentTime}, so time only moves through {warpTime} whatever the
/// runner does with the block environment between calls.
abstract contract HandlerBase is CoreFixture {
    uint256 public currentTime;
    /// @notice Handler calls so far in this run.
    uint256 public calls;
    /// @notice How many calls of each kind succeeded / reverted (for debugging a failing sequence).
    mapping(string name => uint256 count) public succeeded;
    mapping(string name => uint256 count) public reverted;

    modifier syncTime() {
        vm.warp(currentTime);
        ++calls;
        _;
    }

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_
    ) {
        _useCore(humanOverride_, constitution_, token_, registry_);
        currentTime = block.timestamp;
    }

    /// @notice Moves the clock forward by up to `_maxWarp()` seconds.
    function warpTime(uint256 seconds_) external {
        currentTime += bound(seconds_, 0, _maxWarp());
        vm.warp(currentTime);
    }

    function _maxWarp() internal view virtual returns (uint256) {
        return 10 days;
    }

    function _ok(string memory name) internal {
        ++succeeded[name];
    }

    function _failed(string memory name) internal {
        ++reverted[name];
    }

    function _pick(address[] storage list, uint256 seed) internal view returns (address) {
        return list[seed % list.length];
    }
}
