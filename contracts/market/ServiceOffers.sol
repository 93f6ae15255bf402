// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IServiceMarketplace} from "../interfaces/IServiceMarketplace.sol";
import {ActionTypes} from "../libraries/ActionTypes.sol";
import {SafetyGuarded} from "../safety/SafetyGuarded.sol";

/// @title ServiceOffers
/// @notice Seed 000's service offers, as a module of {ServiceMarketplace}: an active provider agent lists a GPU
/// service (price per unit, capacity, model), updates or delists it; the marketplace keeps each offer's load (units
/// of awarded, unfinished workloads), which its capacity must cover.
/// @dev Owns the offers and the registry reference the marketplace shares. The workload core reads offers through
/// {_ownedService}, {_service} and {_requireCapacity}, and moves their load with {_addLoad} and {_removeLoad}.
abstract contract ServiceOffers is IServiceMarketplace, SafetyGuarded {
    using SafeCast for uint256;

    /// @dev An offer as stored: its provider agent, whether it takes bids, and seed 000's ServiceOffer fields.
    /// `serviceType` is keccak256(serviceName), what a workload asks for.
    struct Service {
        uint64 providerId;
        bool listed;
        // When the offer was last listed: bids placed before it (under an earlier listing) are void.
        uint64 listedAt;
        bytes32 serviceType;
        uint256 pricePerUnit;
        uint256 maxCapacity;
        uint256 currentLoad;
        bytes32 modelHash;
        uint256 minAccuracy;
        string serviceName;
    }

    /// @dev The agent registry: identities, activity, stake, reputation (shared with the workload core).
    IAgentRegistry internal immutable _registry;

    mapping(bytes32 serviceId => Service service) private _services;

    constructor(IAgentRegistry registry_) {
        if (address(registry_) == address(0)) revert MarketplaceZeroAddress();
        _registry = registry_;
    }

    /// @inheritdoc IServiceMarketplace
    function listService(ServiceOffer calldata offer) external whenNotStopped {
        uint256 gasStart = gasleft();
        uint256 providerId = _activeProvider(msg.sender);
        if (offer.serviceId == bytes32(0)) revert MarketplaceInvalidServiceId();
        Service storage service = _services[offer.serviceId];
        _checkOffer(offer);
        if (service.providerId == 0) {
            service.providerId = providerId.toUint64();
        } else {
            // Relisting: only the provider's own delisted offer, and the new offer must carry its load.
            if (service.providerId != providerId || service.listed) revert MarketplaceServiceExists(offer.serviceId);
            if (offer.maxCapacity < service.currentLoad) {
                revert MarketplaceCapacityBelowLoad(offer.serviceId, offer.maxCapacity, service.currentLoad);
            }
        }
        service.listed = true;
        service.listedAt = uint64(block.timestamp);
        _writeOffer(service, offer);
        emit ServiceListed(offer.serviceId, providerId, _offerOf(offer.serviceId, service));
        _enforce(msg.sender, ActionTypes.LIST_SERVICE, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function updateService(bytes32 serviceId, ServiceOffer calldata offer) external whenNotStopped {
        uint256 gasStart = gasleft();
        (uint256 providerId, Service storage service) = _ownedService(serviceId);
        _checkOffer(offer);
        if (offer.maxCapacity < service.currentLoad) {
            revert MarketplaceCapacityBelowLoad(serviceId, offer.maxCapacity, service.currentLoad);
        }
        _writeOffer(service, offer);
        emit ServiceUpdated(serviceId, providerId, _offerOf(serviceId, service));
        _enforce(msg.sender, ActionTypes.LIST_SERVICE, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function delistService(bytes32 serviceId) external whenNotStopped {
        uint256 gasStart = gasleft();
        (uint256 providerId, Service storage service) = _ownedService(serviceId);
        if (!service.listed) revert MarketplaceServiceNotListed(serviceId);
        service.listed = false;
        emit ServiceDelisted(serviceId, providerId);
        _enforce(msg.sender, ActionTypes.LIST_SERVICE, 0, gasStart);
    }

    /// @inheritdoc IServiceMarketplace
    function getServiceStatus(bytes32 serviceId) external view returns (ServiceOffer memory) {
        Service storage service = _services[serviceId];
        if (service.providerId == 0) revert MarketplaceUnknownService(serviceId);
        return _offerOf(serviceId, service);
    }

    /// @notice The provider agent that owns `serviceId` and whether it is listed.
    function serviceOwner(bytes32 serviceId) external view returns (uint256 providerId, bool listed) {
        Service storage service = _services[serviceId];
        if (service.providerId == 0) revert MarketplaceUnknownService(serviceId);
        return (service.providerId, service.listed);
    }

    // ---------------------------------------------------------------- for the workload core

    /// @dev Whether a bid placed at `placedAt` on `service` can be awarded: the offer is listed, and was not listed
    /// again since the bid (a relisting voids the bids of the earlier listing, whose terms the provider withdrew).
    function _takesBid(Service storage service, uint64 placedAt) internal view returns (bool) {
        return service.listed && placedAt >= service.listedAt;
    }

    /// @dev Offer `serviceId` as stored (empty when unknown).
    function _service(bytes32 serviceId) internal view returns (Service storage) {
        return _services[serviceId];
    }

    /// @dev Offer `serviceId` and its provider; requires the offer to exist and the caller to be its provider agent.
    function _ownedService(bytes32 serviceId) internal view returns (uint256 providerId, Service storage service) {
        service = _services[serviceId];
        if (service.providerId == 0) revert MarketplaceUnknownService(serviceId);
        providerId = _registry.agentIdOf(msg.sender);
        if (providerId == 0) revert MarketplaceNotRegistered(msg.sender);
        if (service.providerId != providerId) revert MarketplaceNotServiceOwner(serviceId, providerId);
    }

    /// @dev Requires the offer's free capacity (maxCapacity − currentLoad) to cover `units`.
    function _requireCapacity(bytes32 serviceId, Service storage service, uint256 units) internal view {
        uint256 available = service.maxCapacity - service.currentLoad;
        if (units > available) revert MarketplaceCapacityExceeded(serviceId, units, available);
    }

    /// @dev An award puts `units` on offer `serviceId`.
    function _addLoad(bytes32 serviceId, uint256 units) internal {
        _services[serviceId].currentLoad += units;
    }

    /// @dev A settlement or a failed assignment takes `units` off offer `serviceId`.
    function _removeLoad(bytes32 serviceId, uint256 units) internal {
        _services[serviceId].currentLoad -= units;
    }

    // ---------------------------------------------------------------- internal

    function _activeProvider(address account) private view returns (uint256 agentId) {
        agentId = _registry.agentIdOf(account);
        if (agentId == 0) revert MarketplaceNotRegistered(account);
        IAgentRegistry.AgentSummary memory s = _registry.summaryOf(agentId);
        if (s.agentType != IAgentRegistry.AgentType.ServiceProvider) revert MarketplaceNotServiceProvider(agentId);
        if (!s.active) revert MarketplaceAgentNotActive(agentId);
    }

    function _checkOffer(ServiceOffer calldata offer) private pure {
        if (bytes(offer.serviceName).length == 0 || bytes(offer.serviceName).length > 64) {
            revert MarketplaceInvalidRequest("serviceName");
        }
        if (offer.pricePerUnit == 0) revert MarketplaceInvalidRequest("pricePerUnit");
        if (offer.maxCapacity == 0) revert MarketplaceInvalidRequest("maxCapacity");
    }

    function _writeOffer(Service storage service, ServiceOffer calldata offer) private {
        service.serviceName = offer.serviceName;
        service.serviceType = keccak256(bytes(offer.serviceName));
        service.pricePerUnit = offer.pricePerUnit;
        service.maxCapacity = offer.maxCapacity;
        service.modelHash = offer.modelHash;
        service.minAccuracy = offer.minAccuracy;
    }

    function _offerOf(bytes32 serviceId, Service storage service) private view returns (ServiceOffer memory) {
        return
            ServiceOffer({
                serviceId: serviceId,
                serviceName: service.serviceName,
                pricePerUnit: service.pricePerUnit,
                maxCapacity: service.maxCapacity,
                currentLoad: service.currentLoad,
                modelHash: service.modelHash,
                minAccuracy: service.minAccuracy
            });
    }
}
