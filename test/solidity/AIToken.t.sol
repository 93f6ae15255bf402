// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";

import {IAIToken} from "../../contracts/interfaces/IAIToken.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";

contract AITokenTest is CoreFixture {
    address internal provider = address(0x9801);

    function setUp() public {
        _deployCore();
    }

    function test_mintFromReceipt_mintsRewardToProvider() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 42);
        uint256 amount = token.mintFromReceipt(receipt, _sign(ATTESTOR_KEY, receipt));
        assertEq(amount, 42 * REWARD_RATE, "amount");
        assertEq(token.balanceOf(provider), amount, "provider balance");
        assertEq(token.totalSupply(), amount, "supply");
        assertTrue(token.isReceiptMinted(receipt.receiptId), "receipt spent");
    }

    function testFuzz_mintFromReceipt_amountIsUnitsTimesRateAndOnce(
        bytes32 receiptId,
        address to,
        uint256 units,
        uint256 rate,
        address caller
    ) public {
        vm.assume(to != address(0));
        rate = bound(rate, 1, token.MAX_REWARD_RATE());
        token.setRewardRate(rate);
        units = bound(units, 1, SUPPLY_CAP / rate);

        IAIToken.ComputeReceipt memory receipt = _receipt(to, units);
        receipt.receiptId = receiptId;
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);

        // Anyone may submit an attested receipt; the reward always goes to the provider.
        vm.prank(caller);
        uint256 amount = token.mintFromReceipt(receipt, signature);
        assertEq(amount, units * rate, "amount == units * rewardRate");
        assertEq(token.balanceOf(to), amount, "provider balance");
        assertEq(token.totalSupply(), amount, "supply");
        assertTrue(token.isReceiptMinted(receiptId), "receipt spent");

        // The same receipt id never mints twice: not with the same signature...
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, receiptId));
        token.mintFromReceipt(receipt, signature);

        // ...nor with another signed receipt that reuses the id (other provider and units).
        IAIToken.ComputeReceipt memory reuse = _receipt(address(0xBEEF), 1);
        reuse.receiptId = receiptId;
        bytes memory reuseSignature = _sign(ATTESTOR_KEY, reuse);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, receiptId));
        token.mintFromReceipt(reuse, reuseSignature);

        assertEq(token.totalSupply(), amount, "supply unchanged by replays");
    }

    function testFuzz_mintFromReceipt_nonAttestorSignerReverts(uint256 privateKey, uint256 units) public {
        privateKey = bound(privateKey, 1, SECP256K1_N - 1);
        address signer = vm.addr(privateKey);
        vm.assume(signer != attestor);
        units = bound(units, 1, 1_000_000);

        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        bytes memory signature = _sign(privateKey, receipt);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenSignerNotAttestor.selector, receipt.receiptId, signer));
        token.mintFromReceipt(receipt, signature);

        assertFalse(token.isReceiptMinted(receipt.receiptId), "receipt not spent");
        assertEq(token.totalSupply(), 0, "nothing minted");
    }

    function testFuzz_mintFromReceipt_tamperedReceiptReverts(uint256 units, uint256 otherUnits) public {
        units = bound(units, 1, 1_000_000);
        otherUnits = bound(otherUnits, 1, 1_000_000);
        vm.assume(units != otherUnits);
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);

        // Inflating the units changes the digest, so the recovered signer is some unrelated address.
        receipt.units = otherUnits;
        vm.expectPartialRevert(IAIToken.AITokenSignerNotAttestor.selector);
        token.mintFromReceipt(receipt, signature);
    }

    function testFuzz_mintFromReceipt_expiredReverts(uint256 lateBy) public {
        lateBy = bound(lateBy, 1, 365 days);
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 1);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        uint256 at = uint256(receipt.deadline) + lateBy;
        vm.warp(at);
        vm.expectRevert(
            abi.encodeWithSelector(IAIToken.AITokenReceiptExpired.selector, receipt.receiptId, receipt.deadline, at)
        );
        token.mintFromReceipt(receipt, signature);
    }

    function test_mintFromReceipt_signatureForOtherChainReverts() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 1);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.chainId(block.chainid + 1);
        vm.expectPartialRevert(IAIToken.AITokenSignerNotAttestor.selector);
        token.mintFromReceipt(receipt, signature);
    }

    function test_mintFromReceipt_zeroUnitsReverts() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, 0);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenZeroUnits.selector, receipt.receiptId));
        token.mintFromReceipt(receipt, signature);
    }

    function testFuzz_mintFromReceipt_unitsTooLargeReverts(uint256 units, uint256 rate) public {
        rate = bound(rate, 2, token.MAX_REWARD_RATE()); // at rate 1 no units overflow
        token.setRewardRate(rate);
        uint256 maxUnits = type(uint256).max / rate;
        units = bound(units, maxUnits + 1, type(uint256).max);
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.expectRevert(
            abi.encodeWithSelector(IAIToken.AITokenUnitsTooLarge.selector, receipt.receiptId, units, maxUnits)
        );
        token.mintFromReceipt(receipt, signature);
    }

    function test_mintFromReceipt_pastCapReverts() public {
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, SUPPLY_CAP / REWARD_RATE + 1);
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);
        vm.expectRevert(
            abi.encodeWithSelector(ERC20Capped.ERC20ExceededCap.selector, SUPPLY_CAP + REWARD_RATE, SUPPLY_CAP)
        );
        token.mintFromReceipt(receipt, signature);
    }

    function testFuzz_mintFromReceipts_mintsSumOfUnitsTimesRate(uint256[6] memory units, uint8 providerMask) public {
        IAIToken.ComputeReceipt[] memory receipts = new IAIToken.ComputeReceipt[](units.length);
        bytes[] memory signatures = new bytes[](units.length);
        address other = address(0x9802);
        uint256 expectedTotal;
        uint256 expectedOther;
        for (uint256 i = 0; i < units.length; ++i) {
            uint256 u = bound(units[i], 1, 1_000_000);
            address to = (providerMask >> i) & 1 == 1 ? other : provider;
            receipts[i] = _receipt(to, u);
            signatures[i] = _sign(ATTESTOR_KEY, receipts[i]);
            expectedTotal += u * REWARD_RATE;
            if (to == other) expectedOther += u * REWARD_RATE;
        }
        uint256 total = token.mintFromReceipts(receipts, signatures);
        assertEq(total, expectedTotal, "total");
        assertEq(token.totalSupply(), expectedTotal, "supply");
        assertEq(token.balanceOf(other), expectedOther, "other provider");
        assertEq(token.balanceOf(provider), expectedTotal - expectedOther, "provider");

        // Submitting the same batch again skips every receipt: nothing mints twice, and nothing reverts.
        for (uint256 i = 0; i < receipts.length; ++i) {
            vm.expectEmit(address(token));
            emit IAIToken.ReceiptSkipped(receipts[i].receiptId);
        }
        assertEq(token.mintFromReceipts(receipts, signatures), 0, "replayed batch mints nothing");
        assertEq(token.totalSupply(), expectedTotal, "supply unchanged by the replayed batch");

        // A single receipt of the batch still reverts on its own door.
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, receipts[0].receiptId));
        token.mintFromReceipt(receipts[0], signatures[0]);
    }

    function test_mintFromReceipts_duplicateInBatchMintsOnce() public {
        IAIToken.ComputeReceipt[] memory receipts = new IAIToken.ComputeReceipt[](2);
        bytes[] memory signatures = new bytes[](2);
        receipts[0] = _receipt(provider, 5);
        signatures[0] = _sign(ATTESTOR_KEY, receipts[0]);
        receipts[1] = receipts[0];
        signatures[1] = signatures[0];
        vm.expectEmit(address(token));
        emit IAIToken.ReceiptMinted(receipts[0].receiptId, provider, attestor, receipts[0].client, 5, 5 * REWARD_RATE);
        vm.expectEmit(address(token));
        emit IAIToken.ReceiptSkipped(receipts[0].receiptId);
        uint256 total = token.mintFromReceipts(receipts, signatures);
        assertEq(total, 5 * REWARD_RATE, "minted once");
        assertEq(token.totalSupply(), 5 * REWARD_RATE, "supply");
        assertEq(token.balanceOf(provider), 5 * REWARD_RATE, "provider");
    }

    /// @dev Expects the event of one batch entry (skipped, or minted for units × rate) and returns what it mints.
    function _expectBatchEntry(IAIToken.ComputeReceipt memory r, bool skipped) internal returns (uint256 amount) {
        vm.expectEmit(address(token));
        if (skipped) {
            emit IAIToken.ReceiptSkipped(r.receiptId);
            return 0;
        }
        amount = r.units * REWARD_RATE;
        emit IAIToken.ReceiptMinted(r.receiptId, r.provider, attestor, r.client, r.units, amount);
    }

    struct SkipCase {
        IAIToken.ComputeReceipt[] distinct;
        bytes[] distinctSigs;
        IAIToken.ComputeReceipt[] batch;
        bytes[] signatures;
        uint256 supply0;
        uint256 other0;
        uint256 expectedTotal;
        uint256 expectedOther;
    }

    address internal constant OTHER_PROVIDER = address(0x9802);

    /// @dev A batch mixes fresh receipts, receipts already minted alone (front-run), and repeats of its own
    /// entries: the supply grows by exactly the fresh receipts, each once, and every other entry is skipped.
    function testFuzz_mintFromReceipts_skipsMintedReceipts(
        uint256[6] memory units,
        uint8 mintedMask,
        uint8 repeatMask,
        uint8 providerMask
    ) public {
        SkipCase memory c;
        c.distinct = new IAIToken.ComputeReceipt[](units.length);
        c.distinctSigs = new bytes[](units.length);
        uint256 count;
        for (uint256 i = 0; i < units.length; ++i) {
            address to = (providerMask >> i) & 1 == 1 ? OTHER_PROVIDER : provider;
            c.distinct[i] = _receipt(to, bound(units[i], 1, 1_000_000));
            c.distinctSigs[i] = _sign(ATTESTOR_KEY, c.distinct[i]);
            if ((mintedMask >> i) & 1 == 1) token.mintFromReceipt(c.distinct[i], c.distinctSigs[i]);
            count += (repeatMask >> i) & 1 == 1 ? 2 : 1;
        }
        c.supply0 = token.totalSupply();
        c.other0 = token.balanceOf(OTHER_PROVIDER);

        // Each receipt, and right after it its repeat when asked for; the event each entry must emit, in order.
        c.batch = new IAIToken.ComputeReceipt[](count);
        c.signatures = new bytes[](count);
        uint256 k;
        for (uint256 i = 0; i < units.length; ++i) {
            uint256 copies = (repeatMask >> i) & 1 == 1 ? 2 : 1;
            for (uint256 n = 0; n < copies; ++n) {
                c.batch[k] = c.distinct[i];
                c.signatures[k] = c.distinctSigs[i];
                uint256 amount = _expectBatchEntry(c.distinct[i], n == 1 || (mintedMask >> i) & 1 == 1);
                c.expectedTotal += amount;
                if (c.distinct[i].provider == OTHER_PROVIDER) c.expectedOther += amount;
                ++k;
            }
        }

        uint256 total = token.mintFromReceipts(c.batch, c.signatures);
        assertEq(total, c.expectedTotal, "total == the receipts not minted before");
        assertEq(token.totalSupply(), c.supply0 + c.expectedTotal, "supply grows by exactly the unminted receipts");
        assertEq(token.balanceOf(OTHER_PROVIDER), c.other0 + c.expectedOther, "other provider");
        assertEq(
            token.balanceOf(provider) + token.balanceOf(OTHER_PROVIDER),
            token.totalSupply(),
            "providers hold the supply"
        );
        for (uint256 i = 0; i < units.length; ++i) {
            assertTrue(token.isReceiptMinted(c.distinct[i].receiptId), "every receipt spent");
        }
    }

    /// @dev Skipping is for receipts already minted only: an invalid fresh receipt still sinks the whole batch.
    function test_mintFromReceipts_invalidReceiptStillRevertsTheBatch() public {
        IAIToken.ComputeReceipt[] memory receipts = new IAIToken.ComputeReceipt[](3);
        bytes[] memory signatures = new bytes[](3);
        receipts[0] = _receipt(provider, 1);
        signatures[0] = _sign(ATTESTOR_KEY, receipts[0]);
        token.mintFromReceipt(receipts[0], signatures[0]);
        receipts[1] = _receipt(provider, 2);
        signatures[1] = _sign(ATTESTOR_KEY, receipts[1]);
        receipts[2] = _receipt(provider, 3);
        signatures[2] = _sign(0xBAD, receipts[2]);

        vm.expectRevert(
            abi.encodeWithSelector(IAIToken.AITokenSignerNotAttestor.selector, receipts[2].receiptId, vm.addr(0xBAD))
        );
        token.mintFromReceipts(receipts, signatures);
        assertFalse(token.isReceiptMinted(receipts[1].receiptId), "valid fresh receipt not spent either");
        assertEq(token.totalSupply(), REWARD_RATE, "only the earlier single mint");
    }

    // ---------------------------------------------------------------- verified receipts

    /// @dev A coordinator's key is spent as (coordinator, key): another coordinator's identical key and an
    /// attested receipt whose id is that key are other receipts, in either order.
    function testFuzz_mintFromVerifiedReceipt_keysNamespacedPerCoordinator(
        bytes32 key,
        uint256 units,
        bool attestedFirst
    ) public {
        units = bound(units, 1, 1_000_000);
        address coordinatorA = address(0xC00A);
        address coordinatorB = address(0xC00B);
        token.grantRole(token.COORDINATOR_ROLE(), coordinatorA);
        token.grantRole(token.COORDINATOR_ROLE(), coordinatorB);
        IAIToken.ComputeReceipt memory receipt = _receipt(provider, units);
        receipt.receiptId = key;
        bytes memory signature = _sign(ATTESTOR_KEY, receipt);

        if (attestedFirst) token.mintFromReceipt(receipt, signature);

        vm.prank(coordinatorA);
        assertEq(token.mintFromVerifiedReceipt(key, provider, units), units * REWARD_RATE, "A mints");
        assertTrue(token.isVerifiedReceiptMinted(coordinatorA, key), "spent for A");
        assertFalse(token.isVerifiedReceiptMinted(coordinatorB, key), "not for B");
        assertEq(token.isReceiptMinted(key), attestedFirst, "the attested door is separate");

        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenReceiptAlreadyMinted.selector, key));
        vm.prank(coordinatorA);
        token.mintFromVerifiedReceipt(key, provider, units);

        vm.prank(coordinatorB);
        token.mintFromVerifiedReceipt(key, provider, units);
        assertTrue(token.isVerifiedReceiptMinted(coordinatorB, key), "spent for B");

        if (!attestedFirst) token.mintFromReceipt(receipt, signature);
        assertTrue(token.isReceiptMinted(key), "attested receipt minted too");
        assertEq(token.totalSupply(), 3 * units * REWARD_RATE, "three distinct receipts");
        assertEq(token.balanceOf(provider), token.totalSupply(), "all to the provider");
    }

    function test_mintFromVerifiedReceipt_onlyCoordinator() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                address(this),
                token.COORDINATOR_ROLE()
            )
        );
        token.mintFromVerifiedReceipt(bytes32(uint256(1)), provider, 1);
    }

    function test_mintFromReceipts_emptyAndMismatchedRevert() public {
        IAIToken.ComputeReceipt[] memory none = new IAIToken.ComputeReceipt[](0);
        vm.expectRevert(IAIToken.AITokenEmptyBatch.selector);
        token.mintFromReceipts(none, new bytes[](0));

        IAIToken.ComputeReceipt[] memory one = new IAIToken.ComputeReceipt[](1);
        one[0] = _receipt(provider, 1);
        vm.expectRevert(abi.encodeWithSelector(IAIToken.AITokenLengthMismatch.selector, 1, 2));
        token.mintFromReceipts(one, new bytes[](2));
    }
}
