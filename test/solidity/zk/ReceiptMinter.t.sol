// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IReceiptMinter} from "../../../contracts/interfaces/IReceiptMinter.sol";
import {Groth16Proof, IReceiptVerifier} from "../../../contracts/interfaces/IZkVerifiers.sol";
import {ReceiptMinter} from "../../../contracts/zk/ReceiptMinter.sol";
import {ReceiptVerifier} from "../../../contracts/zk/verifiers/ReceiptVerifier.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";

/// @notice ReceiptMinter's note checks, fuzzed, against the real token and the generated receipt verifier: no
/// denomination of 64 or more passes the cheap check, and no denomination mints without a valid proof. (Valid
/// proofs are made off chain: test/zk/ReceiptMinter.test.ts.)
contract ReceiptMinterTest is CoreFixture {
    uint256 internal constant ROOT = 0x1234;
    uint256 internal constant NULLIFIER = 0x5678;

    ReceiptMinter internal minter;

    function setUp() public {
        _deployCore();
        minter = new ReceiptMinter(token, IReceiptVerifier(address(new ReceiptVerifier())), address(this), attestor);
        token.grantRole(token.COORDINATOR_ROLE(), address(minter));
        vm.prank(attestor);
        minter.publishRoot(ROOT);
    }

    function _proof(uint256 seed) internal pure returns (Groth16Proof memory p) {
        p.a = [uint256(keccak256(abi.encode(seed, 0))), uint256(keccak256(abi.encode(seed, 1)))];
        p.b = [
            [uint256(keccak256(abi.encode(seed, 2))), uint256(keccak256(abi.encode(seed, 3)))],
            [uint256(keccak256(abi.encode(seed, 4))), uint256(keccak256(abi.encode(seed, 5)))]
        ];
        p.c = [uint256(keccak256(abi.encode(seed, 6))), uint256(keccak256(abi.encode(seed, 7)))];
    }

    function test_noteBits_is64() public view {
        assertEq(minter.NOTE_BITS(), 64, "denominations 0..63: units < 2^64");
    }

    function testFuzz_mint_denominationOf64OrMoreReverts(uint256 denomination, uint256 seed) public {
        denomination = bound(denomination, 64, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IReceiptMinter.ReceiptMinterInvalidDenomination.selector, denomination));
        minter.mint(_proof(seed), ROOT, NULLIFIER, guardian, denomination);
        assertFalse(minter.isSpent(NULLIFIER), "nothing spent");
    }

    function testFuzz_mint_anyDenominationWithoutAValidProofReverts(uint8 denomination, uint256 seed) public {
        uint256 d = bound(denomination, 0, 63);
        uint256 supply = token.totalSupply();
        vm.expectRevert(IReceiptMinter.ReceiptMinterInvalidProof.selector);
        minter.mint(_proof(seed), ROOT, NULLIFIER, guardian, d);
        assertFalse(minter.isSpent(NULLIFIER), "nothing spent");
        assertEq(token.totalSupply(), supply, "nothing minted");
    }
}
