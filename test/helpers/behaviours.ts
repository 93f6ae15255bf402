/**
 * Shared behaviours, in the style of OpenZeppelin's `shouldBehaveLikeAccessControl()`: each function declares the
 * `it` block of one cross-cutting rule for one contract function, and the test files apply it to every function the
 * rule concerns (a table of calls), so that the rule is written once and no function is forgotten.
 *
 * - {shouldRevertForUnknownId}: the function reverts `<Contract>Unknown<Thing>(id)` for ids that name nothing.
 * - {shouldBeRefusedWhileStopped}: the function reverts HumanOverrideEmergencyStopped during an emergency stop,
 *   and works again after resume.
 * - {shouldBeChargedAsAgentAction}: the function is an action of the calling (or named) agent, charged to its
 *   constitution: refused with AgentConstitutionActionNotAllowed(agent, actionType) while its constitution does not
 *   allow the action type, and working once it does.
 * - {shouldChargeUpkeepToCallingAgent}: permissionless upkeep is charged to a calling agent (a frozen agent is
 *   refused with AgentConstitutionAgentFrozen) and not to a non-agent (which needs no constitution).
 *
 * Each takes a `setup` that builds the state the call is made in, from the calling file's loadFixture snapshot
 * (the behaviours never load fixtures themselves), and a `call` that makes the call in that state.
 */
import { expect } from "chai";
import type { BaseContract } from "ethers";
import { network } from "hardhat";

import { ACTION_TYPES, ALL_ACTIONS, type ActionName } from "../../protocol/actions.js";
import type { AgentConstitution, HumanOverride } from "../../typechain-types/index.js";
import type { Signer } from "./agents.js";

/**
 * The test network's ethers, fetched when a test runs. Helpers never call `network.getOrCreate()` at module level:
 * two helper modules doing so while both were being imported (top-level awaits in sibling modules run
 * concurrently) got two different connections, hence two chains, and `.to.not.revert(ethers)` then waited forever
 * for a transaction sent to the other chain.
 */
async function connectedEthers() {
  return (await network.getOrCreate()).ethers;
}

/** A state with the safety modules (every fixture built on deployCore has them). */
interface Guarded {
  humanOverride: HumanOverride;
  guardian: Signer;
  constitution: AgentConstitution;
}

export interface UnknownIdCase<F, Id extends bigint | string> {
  /** The function, as the test title names it. */
  fn: string;
  /** The custom error, e.g. "MarketplaceUnknownWorkload"; its one argument is the id. */
  error: string;
  /** Ids that name nothing in the state `setup` builds (0, and ids never issued). */
  ids: readonly Id[];
  setup: () => Promise<F>;
  /** The contract whose ABI declares `error`. */
  contract: (f: F) => BaseContract;
  call: (f: F, id: Id) => Promise<unknown>;
}

/** `fn` reverts `error(id)` for each of `ids`. */
export function shouldRevertForUnknownId<F, Id extends bigint | string>(c: UnknownIdCase<F, Id>): void {
  const ids = c.ids
    .map((i) => (typeof i === "bigint" ? i.toString() : /^0x0*$/.test(i) ? "the zero id" : "an id never issued"))
    .join(", ");
  it(`${c.fn} reverts ${c.error} for an unknown id (${ids})`, async function () {
    const f = await c.setup();
    for (const id of c.ids) {
      await expect(c.call(f, id)).to.be.revertedWithCustomError(c.contract(f), c.error).withArgs(id);
    }
  });
}

export interface StopCase<F extends Guarded> {
  /** The function, as the test title names it. */
  fn: string;
  /** A state in which `call` succeeds (once no stop is in force). */
  setup: () => Promise<F>;
  call: (f: F) => Promise<unknown>;
  /** The contract whose ABI decodes HumanOverrideEmergencyStopped: the HumanOverride unless given. */
  contract?: (f: F) => BaseContract;
  /** Checked after the refused call and again after the call that works (e.g. the books balance). */
  invariant?: (f: F) => Promise<void>;
  /** Checked after the refused call only (e.g. nothing was minted, a nonce stays unused). */
  whileStopped?: (f: F) => Promise<void>;
  /** Runs between the resume and the call that works (e.g. a deadline's grace period after a resume). */
  afterResume?: (f: F) => Promise<void>;
  /** Checked after the call that works. */
  afterCall?: (f: F) => Promise<void>;
}

/** `fn` reverts HumanOverrideEmergencyStopped during an emergency stop, and works after the guardian resumes. */
export function shouldBeRefusedWhileStopped<F extends Guarded>(c: StopCase<F>): void {
  it(`${c.fn} reverts HumanOverrideEmergencyStopped while stopped, and works after resume`, async function () {
    const f = await c.setup();
    await (await f.humanOverride.connect(f.guardian).emergencyStop("exploit in progress")).wait();
    const decoder = c.contract ? c.contract(f) : f.humanOverride;
    await expect(c.call(f)).to.be.revertedWithCustomError(decoder, "HumanOverrideEmergencyStopped");
    await c.invariant?.(f);
    await c.whileStopped?.(f);
    await (await f.humanOverride.connect(f.guardian).resume()).wait();
    await c.afterResume?.(f);
    await expect(c.call(f)).to.not.revert(await connectedEthers());
    await c.invariant?.(f);
    await c.afterCall?.(f);
  });
}

export interface AgentActionCase<F extends Guarded> {
  /** The function, as the test title names it. */
  fn: string;
  /** The action type the function charges (protocol/actions.ts). */
  action: ActionName;
  /** A state in which `call` succeeds and `agent` is an enrolled agent. */
  setup: () => Promise<F>;
  /** The agent the action is charged to: the caller, or the agent the call acts for (a relayed result). */
  agent: (f: F) => Signer;
  call: (f: F) => Promise<unknown>;
}

/** Sets `agent`'s allowed actions through its operator, keeping its other constraints. */
async function allowActions(constitution: AgentConstitution, agent: string, allowedActions: bigint): Promise<void> {
  const operator = await (await connectedEthers()).getSigner(await constitution.operatorOf(agent));
  const c = await constitution.constraintsOf(agent);
  const next = {
    maxStake: c.maxStake,
    maxDailyVolume: c.maxDailyVolume,
    maxGasPerDay: c.maxGasPerDay,
    allowedActions,
    humanApprovalActions: c.humanApprovalActions,
  };
  await (await constitution.connect(operator).setConstraints(agent, next)).wait();
}

/**
 * `fn` is `agent`'s `action`: with that action type taken out of its constitution's allowed actions the call
 * reverts AgentConstitutionActionNotAllowed(agent, actionType); with every action allowed again it works.
 */
export function shouldBeChargedAsAgentAction<F extends Guarded>(c: AgentActionCase<F>): void {
  const actionType = ACTION_TYPES[c.action];
  it(`${c.fn} is the agent's ${c.action} action: refused (AgentConstitutionActionNotAllowed) unless its constitution allows it`, async function () {
    const f = await c.setup();
    const agent = c.agent(f).address;
    await allowActions(f.constitution, agent, ALL_ACTIONS & ~(1n << BigInt(actionType)));
    await expect(c.call(f))
      .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionActionNotAllowed")
      .withArgs(agent, actionType);
    await allowActions(f.constitution, agent, ALL_ACTIONS);
    await expect(c.call(f)).to.not.revert(await connectedEthers());
  });
}

export interface UpkeepCase<F extends Guarded> {
  /** The function, as the test title names it. */
  fn: string;
  /** A state in which `call` succeeds, whoever calls. */
  setup: () => Promise<F>;
  /** An agent (frozen by the test) and a non-agent account. */
  agent: (f: F) => Signer;
  nonAgent: (f: F) => Signer;
  call: (f: F, caller: Signer) => Promise<unknown>;
}

/** `fn`, called by a frozen agent, reverts AgentConstitutionAgentFrozen(agent); a non-agent's call works. */
export function shouldChargeUpkeepToCallingAgent<F extends Guarded>(c: UpkeepCase<F>): void {
  it(`${c.fn} is upkeep charged to a calling agent's constitution: a frozen agent is refused, a non-agent is not`, async function () {
    const f = await c.setup();
    const agent = c.agent(f);
    await (await f.humanOverride.connect(f.guardian).freeze(agent.address, "suspicious")).wait();
    await expect(c.call(f, agent))
      .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionAgentFrozen")
      .withArgs(agent.address);
    await expect(c.call(f, c.nonAgent(f))).to.not.revert(await connectedEthers());
  });
}
