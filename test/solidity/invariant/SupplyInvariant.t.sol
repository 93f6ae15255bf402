// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentConstitution} from "../../../contracts/agents/AgentConstitution.sol";
import {AgentRegistry} from "../../../contracts/agents/AgentRegistry.sol";
import {IAIToken} from "../../../contracts/interfaces/IAIToken.sol";
import {HumanOverride} from "../../../contracts/safety/HumanOverride.sol";
import {AIToken} from "../../../contracts/token/AIToken.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";
import {InvariantTargets} from "../utils/InvariantTargets.sol";

/// @notice Mints from attested receipts (single, and batched with receipts minted before and repeats inside the
/// batch, which are skipped) and from coordinator-verified keys (fresh, replayed, and equal to attested receipt
/// ids), tries replays and forgeries, changes the reward rate, and moves the minted tokens around (transfers,
/// transferFrom, stake, unstake, withdraw, slash), none of which may create or destroy supply. The handler keeps
/// its own record of every receipt and key spent. Needs DEFAULT_ADMIN_ROLE and COORDINATOR_ROLE on the token and
/// SLASHER_ROLE on the registry.
contract SupplyHandler is HandlerBase {
    uint256 internal constant MAX_UNITS = 100_000;
    uint256 internal constant MAX_TEST_RATE = 10 * AITBC;

    address[] public actors; // every address that can hold tokens here (agents first)
    address[] public agents;
    mapping(address agent => uint256 agentId) public agentIdOf;

    /// @notice Sum of the amounts returned by successful mintFromReceipt / mintFromReceipts calls.
    uint256 public ghostMintedSum;
    /// @notice Sum of units × rate over distinct receipts minted, computed here independently of the token.
    uint256 public ghostExpectedRewards;
    uint256 public ghostRate;
    bool public ghostReplayMinted;
    bool public ghostForgeryMinted;
    bool public ghostWrongAmount;
    /// @notice Set if a coordinator key not spent before (by this coordinator) was refused.
    bool public ghostFreshKeyRejected;

    IAIToken.ComputeReceipt[] internal _mintedReceipts;
    bytes[] internal _mintedSignatures;
    mapping(bytes32 receiptId => bool spent) public ghostSpent; // attested receipts
    mapping(bytes32 key => bool spent) public ghostVerifiedSpent; // this handler's (the coordinator's) keys
    bytes32[] internal _verifiedKeys;
    uint256 internal _verifiedNonce;
    /// @notice Receipts a batch skipped (minted before, or repeated inside it).
    uint256 public ghostSkipped;

    constructor(
        HumanOverride humanOverride_,
        AgentConstitution constitution_,
        AIToken token_,
        AgentRegistry registry_,
        address[] memory agents_,
        address[] memory others
    ) HandlerBase(humanOverride_, constitution_, token_, registry_) {
        ghostRate = token_.rewardRate();
        for (uint256 i = 0; i < agents_.length; ++i) {
            agents.push(agents_[i]);
            actors.push(agents_[i]);
            agentIdOf[agents_[i]] = registry_.getAgentId(agents_[i]);
            actors.push(constitution_.operatorOf(agents_[i])); // withdrawals are paid here
        }
        for (uint256 i = 0; i < others.length; ++i) actors.push(others[i]);
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    // ---------------------------------------------------------------- minting

    function mintFromReceipt(uint256 actorSeed, uint256 units) external syncTime {
        units = bound(units, 1, MAX_UNITS);
        IAIToken.ComputeReceipt memory receipt = _receipt(_pick(actors, actorSeed), units);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        try token.mintFromReceipt(receipt, signature) returns (uint256 amount) {
            _recordMint(receipt, signature, amount, units * ghostRate);
            _ok("mintFromReceipt");
        } catch {
            _failed("mintFromReceipt");
        }
    }

    /// @notice A batch of `count` entries, each a fresh receipt, a receipt minted earlier, or a repeat of an earlier
    /// entry of the batch: only the fresh receipts mint, each once.
    function mintFromReceipts(uint256 seed, uint256 count) external syncTime {
        count = bound(count, 1, 5);
        IAIToken.ComputeReceipt[] memory receipts = new IAIToken.ComputeReceipt[](count);
        bytes[] memory signatures = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 kind = r % 4; // 0, 1: fresh; 2: minted earlier; 3: repeat of an earlier entry
            if (kind == 2 && _mintedReceipts.length > 0) {
                uint256 index = (r >> 8) % _mintedReceipts.length;
                receipts[i] = _mintedReceipts[index];
                signatures[i] = _mintedSignatures[index];
            } else if (kind == 3 && i > 0) {
                uint256 index = (r >> 8) % i;
                receipts[i] = receipts[index];
                signatures[i] = signatures[index];
            } else {
                receipts[i] = _receipt(_pick(actors, r), bound(r >> 16, 1, MAX_UNITS));
                signatures[i] = _sign(ATTESTOR_KEY, receipts[i]);
            }
        }
        try token.mintFromReceipts(receipts, signatures) returns (uint256 total) {
            uint256 expected;
            for (uint256 i = 0; i < count; ++i) {
                if (ghostSpent[receipts[i].receiptId]) {
                    ++ghostSkipped;
                    continue;
                }
                ghostSpent[receipts[i].receiptId] = true;
                expected += receipts[i].units * ghostRate;
                _mintedReceipts.push(receipts[i]);
                _mintedSignatures.push(signatures[i]);
            }
            ghostMintedSum += total;
            ghostExpectedRewards += expected;
            if (total != expected) ghostWrongAmount = true;
            _ok("mintFromReceipts");
        } catch {
            _failed("mintFromReceipts");
        }
    }

    /// @notice A coordinator mint: a fresh key, a key it spent before (must revert), or the id of an attested
    /// receipt (another namespace: must mint).
    function mintFromVerifiedReceipt(uint256 seed, uint256 actorSeed, uint256 units) external syncTime {
        units = bound(units, 1, MAX_UNITS);
        bytes32 key;
        uint256 kind = seed % 3;
        if (kind == 1 && _verifiedKeys.length > 0) key = _verifiedKeys[(seed >> 8) % _verifiedKeys.length];
        else if (kind == 2 && _mintedReceipts.length > 0) {
            key = _mintedReceipts[(seed >> 8) % _mintedReceipts.length].receiptId;
        } else key = keccak256(abi.encode("verified", ++_verifiedNonce));
        bool replay = ghostVerifiedSpent[key];
        try token.mintFromVerifiedReceipt(key, _pick(actors, actorSeed), units) returns (uint256 amount) {
            ghostMintedSum += amount;
            if (replay) ghostReplayMinted = true;
            ghostVerifiedSpent[key] = true;
            _verifiedKeys.push(key);
            ghostExpectedRewards += units * ghostRate;
            if (amount != units * ghostRate) ghostWrongAmount = true;
            _ok("mintFromVerifiedReceipt");
        } catch {
            if (!replay) ghostFreshKeyRejected = true;
            _failed("mintFromVerifiedReceipt");
        }
    }

    /// @notice Re-submits an already minted receipt; must always revert.
    function replayReceipt(uint256 index) external syncTime {
        if (_mintedReceipts.length == 0) return;
        index = index % _mintedReceipts.length;
        IAIToken.ComputeReceipt memory receipt = _mintedReceipts[index];
        try token.mintFromReceipt(receipt, _mintedSignatures[index]) returns (uint256 amount) {
            ghostMintedSum += amount;
            ghostReplayMinted = true;
        } catch {
            _failed("replayReceipt");
        }
    }

    /// @notice A receipt signed by a key that is not an attestor; must always revert.
    function forgedReceipt(uint256 privateKey, uint256 actorSeed, uint256 units) external syncTime {
        privateKey = bound(privateKey, 1, SECP256K1_N - 1);
        if (privateKey == ATTESTOR_KEY) return;
        units = bound(units, 1, MAX_UNITS);
        IAIToken.ComputeReceipt memory receipt = _receipt(_pick(actors, actorSeed), units);
        try token.mintFromReceipt(receipt, _sign(privateKey, receipt)) returns (uint256 amount) {
            ghostMintedSum += amount;
            ghostForgeryMinted = true;
        } catch {
            _failed("forgedReceipt");
        }
    }

    function setRewardRate(uint256 rate) external syncTime {
        rate = bound(rate, 1, MAX_TEST_RATE);
        token.setRewardRate(rate);
        ghostRate = rate;
        _ok("setRewardRate");
    }

    // ---------------------------------------------------------------- moving tokens (supply-neutral)

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external syncTime {
        address from = _pick(actors, fromSeed);
        address to = _pick(actors, toSeed);
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        try token.transfer(to, amount) {
            _ok("transfer");
        } catch {
            _failed("transfer");
        }
    }

    function transferFrom(uint256 fromSeed, uint256 spenderSeed, uint256 toSeed, uint256 amount) external syncTime {
        address from = _pick(actors, fromSeed);
        address spender = _pick(actors, spenderSeed);
        address to = _pick(actors, toSeed);
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        token.approve(spender, amount);
        vm.prank(spender);
        try token.transferFrom(from, to, amount) {
            _ok("transferFrom");
        } catch {
            _failed("transferFrom");
        }
    }

    function stake(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        uint256 balance = token.balanceOf(agent);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(agent);
        try registry.stake(amount) {
            _ok("stake");
        } catch {
            _failed("stake");
        }
    }

    function requestUnstake(uint256 agentSeed, uint256 amount) external syncTime {
        address agent = _pick(agents, agentSeed);
        uint256 id = agentIdOf[agent];
        uint256 staked = registry.stakeOf(id);
        if (staked == 0) return;
        amount = bound(amount, 1, staked);
        vm.prank(agent);
        try registry.requestUnstake(id, amount) {
            _ok("requestUnstake");
        } catch {
            _failed("requestUnstake");
        }
    }

    function withdraw(uint256 agentSeed) external syncTime {
        uint256 id = agentIdOf[_pick(agents, agentSeed)];
        uint64 withdrawableAt = registry.getAgent(id).withdrawableAt;
        if (withdrawableAt > currentTime) {
            currentTime = withdrawableAt;
            vm.warp(currentTime);
        }
        vm.prank(registry.getAgent(id).operator);
        try registry.withdraw(id) {
            _ok("withdraw");
        } catch {
            _failed("withdraw");
        }
    }

    function slash(uint256 agentSeed, uint256 amount) external syncTime {
        uint256 id = agentIdOf[_pick(agents, agentSeed)];
        uint256 maxSlash = (registry.stakeOf(id) + registry.getAgent(id).pendingWithdrawal) / 2;
        if (maxSlash == 0) return;
        amount = bound(amount, 1, maxSlash);
        try registry.slash(id, amount, "supply invariant") {
            _ok("slash");
        } catch {
            _failed("slash");
        }
    }

    function _recordMint(
        IAIToken.ComputeReceipt memory receipt,
        bytes memory signature,
        uint256 amount,
        uint256 expected
    ) internal {
        ghostSpent[receipt.receiptId] = true;
        ghostMintedSum += amount;
        ghostExpectedRewards += expected;
        if (amount != expected) ghostWrongAmount = true;
        _mintedReceipts.push(receipt);
        _mintedSignatures.push(signature);
    }
}

/// @notice Invariant 1: AIToken's total supply is exactly what was minted from receipts.
contract SupplyInvariantTest is CoreFixture, InvariantTargets {
    SupplyHandler internal handler;

    function setUp() public {
        _deployCore();
        address[] memory agents = new address[](2);
        agents[0] = address(0xA6E41);
        agents[1] = address(0xA6E42);
        // Declared volumes: the agents' transfers and stakes are not stopped by a zero daily limit.
        _registerAgent(agents[0], address(0x0BE41), DEFAULT_MAX_DAILY_VOLUME);
        _registerAgent(agents[1], address(0x0BE42), 50_000 * AITBC);
        address[] memory others = new address[](3);
        others[0] = address(0x401D1);
        others[1] = address(0x401D2);
        others[2] = treasury;

        handler = new SupplyHandler(humanOverride, constitution, token, registry, agents, others);
        token.grantRole(token.DEFAULT_ADMIN_ROLE(), address(handler));
        token.grantRole(token.COORDINATOR_ROLE(), address(handler));
        registry.grantRole(registry.SLASHER_ROLE(), address(handler));

        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = handler.mintFromReceipt.selector;
        selectors[1] = handler.mintFromReceipts.selector;
        selectors[2] = handler.replayReceipt.selector;
        selectors[3] = handler.forgedReceipt.selector;
        selectors[4] = handler.setRewardRate.selector;
        selectors[5] = handler.transfer.selector;
        selectors[6] = handler.transferFrom.selector;
        selectors[7] = handler.stake.selector;
        selectors[8] = handler.requestUnstake.selector;
        selectors[9] = handler.withdraw.selector;
        selectors[10] = handler.slash.selector;
        selectors[11] = handler.warpTime.selector;
        selectors[12] = handler.mintFromVerifiedReceipt.selector;
        selectors[13] = handler.mintFromReceipts.selector; // batches twice as often: they carry the skip rule
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_totalSupplyEqualsMintedFromReceipts() public view {
        assertEq(token.totalSupply(), handler.ghostMintedSum(), "totalSupply == sum minted from receipts");
        assertEq(token.totalSupply(), handler.ghostExpectedRewards(), "totalSupply == sum of units * rate");
    }

    function invariant_receiptsMintOnlyOnceAndOnlyWhenAttested() public view {
        assertFalse(handler.ghostReplayMinted(), "a receipt minted twice");
        assertFalse(handler.ghostForgeryMinted(), "a non-attestor receipt minted");
        assertFalse(handler.ghostWrongAmount(), "a mint returned other than units * rate of its unminted receipts");
        assertFalse(handler.ghostFreshKeyRejected(), "a coordinator key collided with another namespace");
    }

    /// @dev Every holder is known, so the balances must add up to the supply (nothing created or lost in moves).
    function invariant_balancesSumToTotalSupply() public view {
        uint256 sum = token.balanceOf(address(registry));
        uint256 count = handler.actorCount();
        for (uint256 i = 0; i < count; ++i) sum += token.balanceOf(handler.actors(i));
        assertEq(sum, token.totalSupply(), "sum of balances == totalSupply");
        assertLe(token.totalSupply(), token.cap(), "supply <= cap");
    }

    /// @dev Guards against a vacuous invariant: batches skip what was minted, coordinator keys live in their own
    /// namespace, and the model follows.
    function test_handlerActions_skipMintedAndKeepTheModel() public {
        handler.mintFromReceipt(0, 10);
        handler.mintFromReceipts(1, 5);
        handler.mintFromReceipts(2, 5);
        handler.mintFromReceipts(3, 5);
        handler.mintFromVerifiedReceipt(0, 0, 7); // fresh key
        handler.mintFromVerifiedReceipt(1, 0, 7); // its own key again: must revert
        handler.mintFromVerifiedReceipt(2, 0, 7); // an attested receipt's id: another namespace, mints
        handler.replayReceipt(0);
        assertEq(handler.succeeded("mintFromReceipts"), 3, "batches mint");
        assertGe(handler.ghostSkipped(), 1, "some batch entries skipped");
        assertEq(handler.succeeded("mintFromVerifiedReceipt"), 2, "fresh and attested-id keys mint");
        assertEq(handler.reverted("mintFromVerifiedReceipt"), 1, "replayed key reverts");
        assertEq(handler.reverted("replayReceipt"), 1, "single replay reverts");
        invariant_totalSupplyEqualsMintedFromReceipts();
        invariant_receiptsMintOnlyOnceAndOnlyWhenAttested();
        invariant_balancesSumToTotalSupply();
    }
}
