// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IAgentConstitution} from "../../../contracts/interfaces/IAgentConstitution.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";

/// @notice Agents (each with its own maxDailyVolume) transfer, get pulled by an ordinary spender, and stake fuzzed
/// amounts (up to twice their limit), while the clock moves across UTC day buckets. Every successful action's value
/// is added to a ghost volume per (agent, day).
contract DailyVolumeHandler is HandlerBase {
    address public constant SPENDER = address(0x5E4D);
    address public constant RECIPIENT = address(0x7EC1);

    address[] public agents;
    mapping(address agent => uint256 maxDailyVolume) public limitOf;

    mapping(address agent => mapping(uint256 day => uint256 volume)) public ghostVolume;
    mapping(address agent => uint256[] dayList) internal _days; // days with volume, per agent
    /// @notice Set if an action succeeded although the day's volume would then exceed the limit.
    bool public ghostLimitBreached;
    uint256 public ghostBreachDay;

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        address[] memory agents_
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        for (uint256 i = 0; i < agents_.length; ++i) {
            agents.push(agents_[i]);
            limitOf[agents_[i]] = constitution_.constraintsOf(agents_[i]).maxDailyVolume;
        }
    }

    function _maxWarp() internal pure override returns (uint256) {
        return 30 hours;
    }

    function agentCount() external view returns (uint256) {
        return agents.length;
    }

    function daysOf(address agent) external view returns (uint256[] memory) {
        return _days[agent];
    }

    function today() public view returns (uint256) {
        return currentTime / 1 days;
    }

    function transfer(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        amount = _amount(agent, amount);
        vm.prank(agent);
        try token.transfer(RECIPIENT, amount) {
            _record(agent, amount);
            _ok("transfer");
        } catch {
            _failed("transfer");
        }
    }

    function transferFrom(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        amount = _amount(agent, amount);
        vm.prank(SPENDER);
        try token.transferFrom(agent, RECIPIENT, amount) {
            _record(agent, amount);
            _ok("transferFrom");
        } catch {
            _failed("transferFrom");
        }
    }

    function stake(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        amount = _amount(agent, amount);
        vm.prank(agent);
        try registry.stake(amount) {
            _record(agent, amount);
            _ok("stake");
        } catch {
            _failed("stake");
        }
    }

    /// @notice Jumps to the last second of the current day bucket (the edge a rolling-window bug would show at).
    function warpToEndOfDay() external {
        currentTime = (today() + 1) * 1 days - 1;
        vm.warp(currentTime);
    }

    /// @dev Up to twice the limit, with the interesting values (the day's remainder, one past it) likely.
    function _amount(address agent, uint256 seed) internal view returns (uint256) {
        uint256 limit = limitOf[agent];
        uint256 used = ghostVolume[agent][today()];
        uint256 remaining = used < limit ? limit - used : 0;
        uint256 mode = seed % 4;
        if (mode == 0) return remaining;
        if (mode == 1) return remaining + 1;
        return bound(seed >> 2, 0, 2 * limit);
    }

    function _record(address agent, uint256 amount) internal {
        uint256 day = today();
        if (ghostVolume[agent][day] == 0 && amount > 0) _days[agent].push(day);
        ghostVolume[agent][day] += amount;
        if (ghostVolume[agent][day] > limitOf[agent]) {
            ghostLimitBreached = true;
            ghostBreachDay = day;
        }
    }
}

/// @notice Invariant 3: an agent's volume in any UTC day bucket never exceeds its constitution's maxDailyVolume.
contract DailyVolumeInvariantTest is CoreFixture, InvariantTargets {
    DailyVolumeHandler internal handler;

    function setUp() public {
        _deployCore();
        address[] memory agents = new address[](3);
        uint256[3] memory limits = [uint256(1_000 * AITBC), 25_000 * AITBC, DEFAULT_MAX_DAILY_VOLUME];
        for (uint256 i = 0; i < agents.length; ++i) {
            agents[i] = address(uint160(0xA6E4700 + i));
            _registerAgent(agents[i], address(uint160(0x0BE4700 + i)), 0);
            IAgentConstitution.Constraints memory c = _defaultConstraints();
            c.maxDailyVolume = uint96(limits[i]);
            _setConstraints(agents[i], c);
            _mintTo(agents[i], 5_000_000); // plenty: the balance is never what stops an action
            vm.prank(agents[i]);
            token.approve(address(0x5E4D), type(uint256).max); // the handler's SPENDER, not a module
        }
        handler = new DailyVolumeHandler(humanOverride, constitution, token, registry, agents);

        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = handler.transfer.selector;
        selectors[1] = handler.transferFrom.selector;
        selectors[2] = handler.stake.selector;
        selectors[3] = handler.warpTime.selector;
        selectors[4] = handler.warpToEndOfDay.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_dailyVolumeNeverExceedsLimit() public view {
        assertFalse(handler.ghostLimitBreached(), "an action pushed a day's volume past maxDailyVolume");
        uint256 count = handler.agentCount();
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.agents(i);
            uint256 limit = constitution.constraintsOf(agent).maxDailyVolume;
            uint256[] memory days_ = handler.daysOf(agent);
            for (uint256 d = 0; d < days_.length; ++d) {
                assertLe(handler.ghostVolume(agent, days_[d]), limit, "day volume <= maxDailyVolume");
            }
        }
    }

    /// @dev The constitution's own record of today agrees with the model, and is within the limit.
    function invariant_usageOfMatchesSuccessfulActions() public {
        vm.warp(handler.currentTime());
        uint256 day = handler.today();
        uint256 count = handler.agentCount();
        for (uint256 i = 0; i < count; ++i) {
            address agent = handler.agents(i);
            IAgentConstitution.Usage memory usage = constitution.usageOf(agent);
            assertEq(usage.day, day, "usage bucket is today");
            assertEq(usage.volume, handler.ghostVolume(agent, day), "usageOf.volume == sum of today's actions");
            assertLe(usage.volume, constitution.constraintsOf(agent).maxDailyVolume, "usage <= maxDailyVolume");
        }
    }

    /// @dev Guards against a vacuous invariant: the handler reaches the limit, is stopped by it, and starts over
    /// on the next day. Agent 0's limit is 1,000 AITBC.
    function test_handlerActions_hitTheLimitAndResetNextDay() public {
        handler.transfer(0, 4 * 400 * AITBC + 2); // mode 2: bounded amount
        uint256 used = handler.ghostVolume(handler.agents(0), handler.today());
        handler.stake(0, 0); // mode 0: exactly the remainder
        handler.transferFrom(0, 1); // mode 1: one past the remainder: must revert
        assertEq(handler.ghostVolume(handler.agents(0), handler.today()), 1_000 * AITBC, "limit reached");
        assertEq(handler.succeeded("transfer") + handler.succeeded("stake"), 2, "both succeed");
        assertEq(handler.reverted("transferFrom"), 1, "past the limit reverts");
        assertLe(used, 1_000 * AITBC, "first transfer within the limit");
        invariant_dailyVolumeNeverExceedsLimit();
        invariant_usageOfMatchesSuccessfulActions();

        handler.warpToEndOfDay();
        handler.transfer(0, 1); // one past a zero remainder: still reverts on the last second
        assertEq(handler.reverted("transfer"), 1, "same bucket until midnight");
        handler.warpTime(1);
        handler.transfer(0, 0); // a fresh day: the whole limit
        assertEq(handler.ghostVolume(handler.agents(0), handler.today()), 1_000 * AITBC, "new day");
        invariant_dailyVolumeNeverExceedsLimit();
        invariant_usageOfMatchesSuccessfulActions();
    }
}
