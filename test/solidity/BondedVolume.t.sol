// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentConstitution} from "../../contracts/interfaces/IAgentConstitution.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";

/// @dev The daily volume an agent's stake backs, against a model written from the rule: all it declared once the
/// stake covers the bond, (stake - minStake) x 10,000 / bondBps below it, nothing under minStake. The constitution
/// holds what the registry computes after any stake and slash, and a transfer above it is refused.
contract BondedVolumeTest is CoreFixture {
    address internal agent = address(0xA6E47);
    address internal operator = address(0x0BE7);
    address internal recipient = address(0x7EC1);
    address internal slasher = address(0x51A5);

    function setUp() public {
        _deployCore();
        registry.grantRole(registry.SLASHER_ROLE(), slasher);
    }

    function _model(uint256 staked, uint256 declared) internal pure returns (uint256) {
        if (staked >= _requiredStake(declared) && staked != 0) return declared;
        if (staked < MIN_STAKE) return 0;
        uint256 backed = ((staked - MIN_STAKE) * 10_000) / BOND_BPS;
        return backed < declared ? backed : declared;
    }

    function testFuzz_bondedVolume_followsStakeAndSlash(uint256 declared, uint256 staked, uint256 slashed) public {
        declared = bound(declared, 0, 1_000_000 * AITBC);
        staked = bound(staked, 1, DEFAULT_MAX_STAKE);
        uint256 agentId = _registerAgent(agent, operator, declared);
        assertEq(constitution.bondedVolumeOf(agent), 0, "nothing staked, nothing backed");

        _fundAndStake(agent, staked);
        assertEq(constitution.bondedVolumeOf(agent), _model(staked, declared), "after the stake");
        assertEq(registry.bondedVolume(agentId), _model(staked, declared), "the registry's view");

        slashed = bound(slashed, 1, staked / 2 == 0 ? 1 : staked / 2);
        if (staked / 2 != 0) {
            vm.prank(slasher);
            registry.slash(agentId, slashed, "fuzz");
            staked -= slashed;
        }
        uint256 backed = _model(staked, declared);
        assertEq(constitution.bondedVolumeOf(agent), backed, "after the slash");

        // Within the operator's default limit, the bonded volume is the limit in force.
        uint256 limit = backed < DEFAULT_MAX_DAILY_VOLUME ? backed : DEFAULT_MAX_DAILY_VOLUME;
        _mintTo(agent, limit / REWARD_RATE + 2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgentConstitution.AgentConstitutionDailyVolumeExceeded.selector,
                agent,
                0,
                limit + 1,
                limit
            )
        );
        vm.prank(agent);
        token.transfer(recipient, limit + 1);
        vm.prank(agent);
        token.transfer(recipient, limit);
    }
}
