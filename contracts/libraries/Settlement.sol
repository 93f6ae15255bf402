// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Settlement
/// @notice The marketplace's money arithmetic: what a workload escrows, and how its escrow splits when it settles.
/// @dev A workload escrows units × maxPricePerUnit when it is posted. At settlement the escrow splits three ways,
/// exactly (nothing is left over and nothing is created): the payment units × pricePerUnit less the protocol fee to
/// the provider, the fee to the treasury, and units × (maxPricePerUnit − pricePerUnit) back to the client. The fee
/// rounds down, in the provider's favour. Arithmetic is checked: the marketplace bounds units below 2^96 and prices
/// below 2^128, so nothing here can overflow for a stored workload, and a wrong input reverts instead of wrapping.
library Settlement {
    /// @notice Basis points in a whole.
    uint256 internal constant BPS = 10_000;

    /// @notice What `units` cost at `pricePerUnit`. A workload's escrow is its cost at its max price per unit.
    function cost(uint256 units, uint256 pricePerUnit) internal pure returns (uint256) {
        return units * pricePerUnit;
    }

    /// @notice Splits a settled workload's `escrow` (pricePerUnit <= the max price it was escrowed at, feeBps <= BPS):
    /// the payment `units` × `pricePerUnit` is `toProvider` + `fee`, and `refund` = `escrow` − payment goes back
    /// to the client.
    function split(
        uint256 escrow,
        uint256 units,
        uint256 pricePerUnit,
        uint256 feeBps
    ) internal pure returns (uint256 toProvider, uint256 fee, uint256 refund) {
        uint256 payment = units * pricePerUnit;
        fee = (payment * feeBps) / BPS;
        toProvider = payment - fee;
        refund = escrow - payment;
    }
}
