import { expect } from "chai";
import { AbiCoder, Contract, getBytes, Interface, type InterfaceAbi } from "ethers";
import { readFileSync } from "node:fs";
import path from "node:path";
import { network } from "hardhat";

import { registration, STATUS } from "../helpers/agents.js";
import { shouldBeChargedAsAgentAction, shouldBeRefusedWhileStopped } from "../helpers/behaviours.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;

/** The ERC-8004 entries of the reference contracts' ABIs (erc-8004/erc-8004-contracts, abis/*.json). */
const REFERENCE = JSON.parse(readFileSync(path.join(import.meta.dirname, "erc8004-reference-abi.json"), "utf8")) as {
  identity: InterfaceAbi;
  reputation: InterfaceAbi;
};

const AGENT_ID = 1n;
const UNKNOWN_ID = 99n;
const URI = "https://agent.example/.well-known/agent-registration.json";

/** The core; `agent` registered as agent 1 (operator `operator`, metadataURI URI); `agent2` not registered. */
async function identityFixture() {
  const core = await deployCore(connection);
  await core.registry.connect(core.agent).register(registration(core.operator.address, { metadataURI: URI }));
  return core;
}
const load = () => networkHelpers.loadFixture(identityFixture);

/** The deployed views as an ERC-8004 client sees them: the reference ABIs at AITBC's addresses. */
async function asReference() {
  const f = await load();
  return {
    ...f,
    identity8004: new Contract(await f.identity.getAddress(), REFERENCE.identity, ethers.provider),
    reputation8004: new Contract(await f.reputation.getAddress(), REFERENCE.reputation, ethers.provider),
  };
}

describe("AgentIdentity (ERC-8004 identity registry over the AgentRegistry)", function () {
  describe("read through the reference ABI", function () {
    it("answers ownerOf (operator), getApproved and getAgentWallet (agent key), tokenURI (metadataURI), version", async function () {
      const { identity8004, agent, operator } = await asReference();
      expect(await identity8004.getFunction("ownerOf")(AGENT_ID)).to.equal(operator.address);
      expect(await identity8004.getFunction("getApproved")(AGENT_ID)).to.equal(agent.address);
      expect(await identity8004.getFunction("getAgentWallet")(AGENT_ID)).to.equal(agent.address);
      expect(await identity8004.getFunction("tokenURI")(AGENT_ID)).to.equal(URI);
      expect(await identity8004.getFunction("getMetadata")(AGENT_ID, "agentWallet")).to.equal(
        agent.address.toLowerCase(),
      );
      expect(await identity8004.getFunction("isApprovedForAll")(operator.address, agent.address)).to.equal(false);
      expect(await identity8004.getFunction("getVersion")()).to.equal("2.0.0");
      expect(await identity8004.getFunction("name")()).to.equal("AITBC Agent Identity");
    });

    it("follows the registry: a profile update changes tokenURI", async function () {
      const { identity, registry, agent } = await load();
      await registry.connect(agent).updateProfile("ipfs://new-registration", "http://127.0.0.1:9", "2", []);
      expect(await identity.tokenURI(AGENT_ID)).to.equal("ipfs://new-registration");
    });

    it("reverts AgentRegistryUnknownAgent for an unknown id", async function () {
      const { identity, registry } = await load();
      for (const call of [
        identity.ownerOf(UNKNOWN_ID),
        identity.getAgentWallet(UNKNOWN_ID),
        identity.tokenURI(UNKNOWN_ID),
        identity.getMetadata(UNKNOWN_ID, "anything"),
        identity.getMetadata(UNKNOWN_ID, "agentWallet"),
        identity.isAuthorizedOrOwner(ethers.ZeroAddress, UNKNOWN_ID),
      ]) {
        await expect(call).to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAgent").withArgs(UNKNOWN_ID);
      }
    });

    it("isAuthorizedOrOwner: the operator and the agent, nobody else", async function () {
      const { identity, agent, operator, outsider } = await load();
      expect(await identity.isAuthorizedOrOwner(operator.address, AGENT_ID)).to.equal(true);
      expect(await identity.isAuthorizedOrOwner(agent.address, AGENT_ID)).to.equal(true);
      expect(await identity.isAuthorizedOrOwner(outsider.address, AGENT_ID)).to.equal(false);
    });

    it("has every function and event of the reference's ERC-8004 identity and reputation ABIs, same selectors", async function () {
      const { identity, reputation } = await load();
      for (const [ours, reference] of [
        [Interface.from(identity.interface.fragments), new Interface(REFERENCE.identity)],
        [Interface.from(reputation.interface.fragments), new Interface(REFERENCE.reputation)],
      ] as const) {
        let functions = 0;
        reference.forEachFunction((f) => {
          expect(ours.getFunction(f.selector)?.format("sighash"), f.format("sighash")).to.equal(f.format("sighash"));
          functions++;
        });
        reference.forEachEvent((e) => {
          expect(ours.getEvent(e.topicHash)?.format("full"), e.format("sighash")).to.equal(e.format("full"));
        });
        expect(functions).to.be.greaterThan(8);
      }
    });
  });

  describe("register (announce to ERC-8004 indexers)", function () {
    it("emits Registered(agentId, metadataURI, operator) and MetadataSet(agentWallet), once", async function () {
      const { identity, agent, operator } = await load();
      await expect(identity.connect(agent)["register()"]())
        .to.emit(identity, "Registered")
        .withArgs(AGENT_ID, URI, operator.address)
        .and.to.emit(identity, "MetadataSet")
        .withArgs(AGENT_ID, "agentWallet", "agentWallet", agent.address.toLowerCase());
      expect(await identity.isRegistered(AGENT_ID)).to.equal(true);
      await expect(identity.connect(agent)["register()"]())
        .to.be.revertedWithCustomError(identity, "AgentIdentityAlreadyRegistered")
        .withArgs(AGENT_ID);
    });

    it("register(agentURI, metadata) stores the entries; the URI must be the registry's", async function () {
      const { identity, agent } = await load();
      await expect(identity.connect(agent)["register(string)"]("https://elsewhere"))
        .to.be.revertedWithCustomError(identity, "AgentIdentityURIMismatch")
        .withArgs(AGENT_ID, URI);
      const value = AbiCoder.defaultAbiCoder().encode(["string"], ["iris-classify"]);
      await expect(
        identity
          .connect(agent)
          ["register(string,(string,bytes)[])"](URI, [{ metadataKey: "service", metadataValue: value }]),
      )
        .to.emit(identity, "MetadataSet")
        .withArgs(AGENT_ID, "service", "service", value);
      expect(await identity.getMetadata(AGENT_ID, "service")).to.equal(value);
    });

    it("refuses a caller that is not a registered agent, and a frozen agent", async function () {
      const { identity, humanOverride, guardian, agent, agent2 } = await load();
      await expect(identity.connect(agent2)["register()"]())
        .to.be.revertedWithCustomError(identity, "AgentIdentityNotAnAgent")
        .withArgs(agent2.address);
      await humanOverride.connect(guardian).freeze(agent.address, "test");
      await expect(identity.connect(agent)["register()"]())
        .to.be.revertedWithCustomError(identity, "AgentIdentityNotActive")
        .withArgs(AGENT_ID, STATUS.frozen);
    });

    it("refuses the reserved agentWallet key and oversized metadata", async function () {
      const { identity, agent } = await load();
      await expect(
        identity
          .connect(agent)
          ["register(string,(string,bytes)[])"]("", [{ metadataKey: "agentWallet", metadataValue: "0x01" }]),
      )
        .to.be.revertedWithCustomError(identity, "AgentIdentityReservedKey")
        .withArgs("agentWallet");
      const many = Array.from({ length: 17 }, (_, i) => ({ metadataKey: `k${i}`, metadataValue: "0x01" }));
      await expect(
        identity.connect(agent)["register(string,(string,bytes)[])"]("", many),
      ).to.be.revertedWithCustomError(identity, "AgentIdentityBadMetadata");
    });

    shouldBeChargedAsAgentAction({
      fn: "register",
      action: "update-profile",
      setup: load,
      agent: (f) => f.agent,
      call: (f) => f.identity.connect(f.agent)["register()"](),
    });

    shouldBeRefusedWhileStopped({
      fn: "register",
      setup: load,
      call: (f) => f.identity.connect(f.agent)["register()"](),
    });
  });

  describe("setMetadata", function () {
    it("is set by the agent or its operator, with MetadataSet", async function () {
      const { identity, agent, operator } = await load();
      await expect(identity.connect(agent).setMetadata(AGENT_ID, "a2a", "0xaa"))
        .to.emit(identity, "MetadataSet")
        .withArgs(AGENT_ID, "a2a", "a2a", "0xaa");
      await identity.connect(operator).setMetadata(AGENT_ID, "a2a", "0xbb");
      expect(await identity.getMetadata(AGENT_ID, "a2a")).to.equal("0xbb");
      expect(await identity.getMetadata(AGENT_ID, "unset")).to.equal("0x");
    });

    it("refuses anyone else, the reserved key, an empty or long key and a long value", async function () {
      const { identity, agent, outsider } = await load();
      await expect(identity.connect(outsider).setMetadata(AGENT_ID, "a2a", "0xaa"))
        .to.be.revertedWithCustomError(identity, "AgentIdentityNotAuthorized")
        .withArgs(AGENT_ID, outsider.address);
      await expect(identity.connect(agent).setMetadata(AGENT_ID, "agentWallet", "0xaa"))
        .to.be.revertedWithCustomError(identity, "AgentIdentityReservedKey")
        .withArgs("agentWallet");
      for (const key of ["", "k".repeat(65)]) {
        await expect(identity.connect(agent).setMetadata(AGENT_ID, key, "0xaa"))
          .to.be.revertedWithCustomError(identity, "AgentIdentityBadMetadata")
          .withArgs(key);
      }
      await expect(
        identity.connect(agent).setMetadata(AGENT_ID, "big", getBytes(`0x${"00".repeat(1025)}`)),
      ).to.be.revertedWithCustomError(identity, "AgentIdentityBadMetadata");
      // the stored value is untouched by the refused calls
      expect(await identity.getMetadata(AGENT_ID, "a2a")).to.equal("0x");
    });

    it("refuses an agent that is not Active (frozen), even from its operator", async function () {
      const { identity, humanOverride, guardian, agent, operator } = await load();
      await humanOverride.connect(guardian).freeze(agent.address, "test");
      await expect(identity.connect(operator).setMetadata(AGENT_ID, "a2a", "0xaa"))
        .to.be.revertedWithCustomError(identity, "AgentIdentityNotActive")
        .withArgs(AGENT_ID, STATUS.frozen);
    });

    shouldBeChargedAsAgentAction({
      fn: "setMetadata",
      action: "update-profile",
      setup: load,
      agent: (f) => f.agent,
      call: (f) => f.identity.connect(f.agent).setMetadata(AGENT_ID, "a2a", "0xaa"),
    });
  });

  it("setAgentURI, setAgentWallet and unsetAgentWallet revert AgentIdentityManagedByRegistry", async function () {
    const { identity, registry, operator, agent2 } = await load();
    const at = await registry.getAddress();
    await expect(identity.connect(operator).setAgentURI(AGENT_ID, "x"))
      .to.be.revertedWithCustomError(identity, "AgentIdentityManagedByRegistry")
      .withArgs(at);
    await expect(identity.connect(operator).setAgentWallet(AGENT_ID, agent2.address, 0n, "0x"))
      .to.be.revertedWithCustomError(identity, "AgentIdentityManagedByRegistry")
      .withArgs(at);
    await expect(identity.connect(operator).unsetAgentWallet(AGENT_ID))
      .to.be.revertedWithCustomError(identity, "AgentIdentityManagedByRegistry")
      .withArgs(at);
  });
});

describe("AgentReputation (ERC-8004 reputation view of the registry's score)", function () {
  it("getSummary over the registry as client: the reputation, one decimal (500 -> 50.0)", async function () {
    const { reputation8004, registry, identity, outsider } = await asReference();
    const source = await registry.getAddress();
    expect(await reputation8004.getFunction("getIdentityRegistry")()).to.equal(await identity.getAddress());
    expect(await reputation8004.getFunction("getSummary")(AGENT_ID, [source], "", "")).to.deep.equal([1n, 500n, 1n]);
    expect(await reputation8004.getFunction("getSummary")(AGENT_ID, [source], "aitbc", "reputation")).to.deep.equal([
      1n,
      500n,
      1n,
    ]);
    expect(await reputation8004.getFunction("getSummary")(AGENT_ID, [source], "other", "")).to.deep.equal([0n, 0n, 0n]);
    expect(await reputation8004.getFunction("getSummary")(AGENT_ID, [outsider.address], "", "")).to.deep.equal([
      0n,
      0n,
      0n,
    ]);
    expect(await reputation8004.getFunction("getClients")(AGENT_ID)).to.deep.equal([source]);
    expect(await reputation8004.getFunction("getLastIndex")(AGENT_ID, source)).to.equal(1n);
    expect(await reputation8004.getFunction("getLastIndex")(AGENT_ID, outsider.address)).to.equal(0n);
    expect(await reputation8004.getFunction("readFeedback")(AGENT_ID, source, 1n)).to.deep.equal([
      500n,
      1n,
      "aitbc",
      "reputation",
      false,
    ]);
  });

  it("follows the registry: a reputation change shows in the summary at once", async function () {
    const { reputation, registry, deployer, outsider } = await load();
    await registry.connect(deployer).grantRole(await registry.REPUTATION_ROLE(), outsider.address);
    await registry.connect(outsider).updateReputation(AGENT_ID, -120n, "late");
    const summary = await reputation.getSummary(AGENT_ID, [await registry.getAddress()], "", "");
    expect(summary.summaryValue).to.equal(380n);
  });

  it("refuses feedback, revocation and responses (AgentReputationEarnedOnly), a summary without clients, unknown feedback", async function () {
    const { reputation, registry, outsider } = await load();
    const source = await registry.getAddress();
    await expect(
      reputation.connect(outsider).giveFeedback(AGENT_ID, 100n, 0, "t", "", "", "", ethers.ZeroHash),
    ).to.be.revertedWithCustomError(reputation, "AgentReputationEarnedOnly");
    await expect(reputation.connect(outsider).revokeFeedback(AGENT_ID, 1n)).to.be.revertedWithCustomError(
      reputation,
      "AgentReputationEarnedOnly",
    );
    await expect(
      reputation.connect(outsider).appendResponse(AGENT_ID, source, 1n, "uri", ethers.ZeroHash),
    ).to.be.revertedWithCustomError(reputation, "AgentReputationEarnedOnly");
    await expect(reputation.getSummary(AGENT_ID, [], "", "")).to.be.revertedWithCustomError(
      reputation,
      "AgentReputationClientsRequired",
    );
    await expect(reputation.readFeedback(AGENT_ID, source, 2n))
      .to.be.revertedWithCustomError(reputation, "AgentReputationNoFeedback")
      .withArgs(AGENT_ID, source, 2n);
    await expect(reputation.getSummary(UNKNOWN_ID, [source], "", ""))
      .to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAgent")
      .withArgs(UNKNOWN_ID);
  });
});
