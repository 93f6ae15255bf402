/**
 * The Orchestrator (keepers/keeper/orchestrator.ts) with a scripted dispatcher and a catalog double: dependency
 * order, parallel branches, the concurrency bound, mapped inputs, transcript sources and proof flags, provider
 * failover, retries with backoff, invalid answers, the budget, the deadline, resumed executions and onStepDone.
 */
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import { pino } from "pino";
import { keccak256, toHex, type Hex } from "viem";

import type { OpenedStepResponse, StepRequest } from "../../../protocol/steps.js";
import { valueHashHex, type Json } from "../../../protocol/values.js";
import type { ProviderOffer } from "../../../keepers/common/catalog.js";
import { AttemptError } from "../../../keepers/keeper/dispatcher.js";
import { ProviderHealth } from "../../../keepers/keeper/health.js";
import {
  Orchestrator,
  type ExecutionJob,
  type OrchestratorOptions,
  type RunOutcome,
  type StepResult,
} from "../../../keepers/keeper/orchestrator.js";
import { planWorkflow, type WorkflowPlan } from "../../../keepers/keeper/workflow.js";
import type { WorkflowSpec } from "../../../protocol/workflow-spec.js";
import { TEST_BLIND } from "../../helpers/proofs.js";

const MODEL: Hex = keccak256(toHex("aitbc.data.v1"));
const INPUTS_HASH: Hex = `0x${"0".repeat(62)}2a`;
const ZERO: Hex = `0x${"0".repeat(64)}`;
/** The scripted dispatcher's answers are already opened; what they carried sealed plays no part here. */
const SEALED = { enc: ZERO, ct: "" };

function offer(name: string, price = 1n): ProviderOffer {
  return {
    serviceId: keccak256(toHex(name)),
    agentId: 1n,
    address: `0x${name.charCodeAt(0).toString(16).padStart(40, "0")}`,
    endpoint: `http://${name}`,
    reputation: 0,
    capabilities: [],
    model: MODEL,
    price,
    capacity: 4n,
    encryptionKey: `0x${"33".repeat(32)}`,
    load: 0n,
  };
}

// ---------------------------------------------------------------- test doubles

interface Behavior {
  /** ms before the answer (or the error); an attempt past its timeoutMs fails "timeout" at timeoutMs. */
  delayMs?: number;
  error?: AttemptError;
  output?: Json;
  cost?: bigint;
}

interface Call {
  provider: string;
  request: StepRequest;
  timeoutMs: number;
  start: number;
  end: number;
}

type Script = (request: StepRequest, provider: string, nth: number) => Behavior;

/** A dispatcher that answers from a script, recording every call, its timing and the peak concurrency. */
class ScriptedDispatcher {
  readonly calls: Call[] = [];
  active = 0;
  maxActive = 0;

  constructor(
    private readonly script: Script,
    private readonly log: string[],
  ) {}

  async attempt(o: ProviderOffer, request: StepRequest, timeoutMs: number): Promise<OpenedStepResponse> {
    const nth = this.calls.filter((c) => c.request.step === request.step).length;
    const call: Call = { provider: o.endpoint.slice(7), request, timeoutMs, start: performance.now(), end: 0 };
    this.calls.push(call);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.log.push(`start:${request.step}`);
    try {
      const b = this.script(request, call.provider, nth);
      const delay = b.delayMs ?? 0;
      if (delay > timeoutMs) {
        await sleep(timeoutMs);
        throw new AttemptError("timeout", `no answer within ${timeoutMs} ms`);
      }
      if (delay > 0) await sleep(delay);
      if (b.error) throw b.error;
      return {
        executionId: request.executionId,
        step: request.step,
        provider: o.address,
        output: b.output ?? { step: request.step },
        sealedOutput: SEALED,
        record: { inputHash: ZERO, outputHash: ZERO, cost: (b.cost ?? o.price).toString() },
        signature: "0x00",
        millis: delay,
      };
    } finally {
      call.end = performance.now();
      this.active -= 1;
      this.log.push(`end:${request.step}`);
    }
  }
}

/** The catalog's interface over a fixed list of offers (quarantined ones left out), recording what it is told. */
class FakeCatalog {
  readonly failures: string[] = [];
  readonly quarantined = new Map<Hex, { millis: number; reason: string }>();
  inFlight = 0;
  acquired = 0;

  constructor(readonly offers: ProviderOffer[]) {}

  candidates(): ProviderOffer[] {
    return this.offers.filter((o) => !this.quarantined.has(o.address));
  }
  noteFailure(address: Hex): void {
    this.failures.push(this.#name(address));
  }
  quarantine(address: Hex, millis: number, reason: string): void {
    this.quarantined.set(address, { millis, reason });
  }
  acquire(): void {
    this.inFlight += 1;
    this.acquired += 1;
  }
  release(): void {
    this.inFlight -= 1;
  }
  #name(address: Hex): string {
    return this.offers.find((o) => o.address === address)?.endpoint.slice(7) ?? address;
  }
}

interface SpecOptions {
  mappings?: string[];
  verification?: number;
  maxRetries?: number;
  requiresProof?: number[];
  timeout?: number;
}

/** A plan of data-processing steps, step i depending on deps[i]; backoffMs set directly (ms, kept short). */
function planOf(deps: number[][], options: SpecOptions = {}, backoffMs = 0): WorkflowPlan {
  const spec: WorkflowSpec = {
    name: "test",
    steps: deps.map((dependsOn, i) => ({
      stepType: 2,
      model: MODEL,
      inputMapping: options.mappings?.[i] ?? "",
      outputMapping: "",
      timeout: options.timeout ?? 0,
      maxRetries: options.maxRetries ?? 0,
      retryBackoff: 0,
      requiresProof: options.requiresProof?.includes(i) ?? false,
      dependsOn,
    })),
    maxExecutionTime: 600n,
    maxBudget: 1000n,
    verification: options.verification ?? 0,
  };
  const plan = planWorkflow(1n, spec, ZERO);
  return { ...plan, steps: plan.steps.map((s) => ({ ...s, backoffMs })) };
}

interface Harness {
  run(job?: Partial<ExecutionJob>): Promise<RunOutcome>;
  dispatcher: ScriptedDispatcher;
  catalog: FakeCatalog;
  /** start:i / end:i (dispatcher) and done:i (onStepDone), in order. */
  log: string[];
  invalid: { provider: string; executionId: bigint; step: number; message: string }[];
}

function harness(
  plan: WorkflowPlan,
  script: Script = () => ({}),
  offers: ProviderOffer[] = [offer("a")],
  options: Partial<OrchestratorOptions> = {},
): Harness {
  const log: string[] = [];
  const invalid: Harness["invalid"] = [];
  const dispatcher = new ScriptedDispatcher(script, log);
  const catalog = new FakeCatalog(offers);
  const orchestrator = new Orchestrator({
    catalog,
    dispatcher,
    logger: pino({ level: "silent" }),
    onInvalid: (o, executionId, step, error) =>
      invalid.push({ provider: o.endpoint.slice(7), executionId, step, message: error.message }),
    concurrency: 4,
    defaultStepTimeoutMs: 2000,
    quarantineMs: 60_000,
    health: new ProviderHealth({ baseMs: 60_000, maxMs: 600_000, logger: pino({ level: "silent" }) }),
    ...options,
  });
  return {
    dispatcher,
    catalog,
    log,
    invalid,
    run: (job = {}) =>
      orchestrator.run({
        executionId: 7n,
        plan,
        inputs: { x: 1 },
        blind: TEST_BLIND,
        inputsHash: INPUTS_HASH,
        budget: 1000n,
        deadline: Date.now() + 10_000,
        done: new Map(),
        onStepDone: (r) => {
          log.push(`done:${r.step}`);
        },
        ...job,
      }),
  };
}

function calls(h: Harness, step?: number): Call[] {
  return h.dispatcher.calls.filter((c) => step === undefined || c.request.step === step);
}

function only(h: Harness, step: number): Call {
  const [call, ...rest] = calls(h, step);
  if (call === undefined || rest.length > 0) throw new Error(`step ${step}: ${calls(h, step).length} calls`);
  return call;
}

const failure = (kind: AttemptError["kind"], message: string = kind, retryAfterMs = 0) =>
  new AttemptError(kind, message, retryAfterMs);

// ---------------------------------------------------------------- tests

describe("keepers: Orchestrator", function () {
  describe("scheduling", function () {
    it("starts a step only once its dependencies are done (and persisted); parallel branches overlap", async function () {
      const h = harness(planOf([[], [0], [0], [1, 2]]), () => ({ delayMs: 30 }));
      const outcome = await h.run();
      expect(outcome.ok).to.equal(true);
      expect([...outcome.results.keys()].sort()).to.deep.equal([0, 1, 2, 3]);
      const at = (event: string) => h.log.indexOf(event);
      expect(at("done:0")).to.be.below(Math.min(at("start:1"), at("start:2")));
      expect(at("done:1")).to.be.below(at("start:3"));
      expect(at("done:2")).to.be.below(at("start:3"));
      const [s1, s2] = [only(h, 1), only(h, 2)];
      expect(s2.start).to.be.below(s1.end); // 1 and 2 ran side by side
      expect(s1.start).to.be.below(s2.end);
      expect(h.dispatcher.maxActive).to.equal(2);
      expect(h.log.filter((e) => e.startsWith("done:"))).to.have.length(4); // once per step
      expect(h.catalog.inFlight).to.equal(0);
      expect(h.catalog.acquired).to.equal(4);
    });

    it("waits for an async onStepDone before starting the step's dependents", async function () {
      const h = harness(planOf([[], [0]]));
      const outcome = await h.run({
        onStepDone: async (r) => {
          h.log.push(`saving:${r.step}`);
          await sleep(20);
          h.log.push(`saved:${r.step}`);
        },
      });
      expect(outcome.ok).to.equal(true);
      expect(h.log).to.deep.equal([
        "start:0",
        "end:0",
        "saving:0",
        "saved:0",
        "start:1",
        "end:1",
        "saving:1",
        "saved:1",
      ]);
    });

    for (const concurrency of [1, 2, 3]) {
      it(`runs at most ${concurrency} attempt(s) at once (6 independent steps)`, async function () {
        const h = harness(planOf([[], [], [], [], [], []]), () => ({ delayMs: 15 }), [offer("a")], { concurrency });
        const outcome = await h.run();
        expect(outcome.ok).to.equal(true);
        expect(outcome.results.size).to.equal(6);
        expect(h.dispatcher.maxActive).to.equal(concurrency);
        expect(calls(h).map((c) => c.request.step)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      });
    }

    it("sends each step its mapped input over the inputs and its dependencies' outputs", async function () {
      const mappings = ['{"op": "a", "v": "$in.cm"}', '{"k": "$0.out.1", "t": "{{$in.name}} got {{$0.out}}"}', "", ""];
      const outputs: Record<number, Json> = { 0: { out: [7, 8] }, 1: "one", 2: { two: 2 } };
      const h = harness(planOf([[], [0], [0, 1], [2]], { mappings }), (r) => ({ output: outputs[r.step] ?? "end" }));
      const outcome = await h.run({ inputs: { cm: [1, 2], name: "iris" } });
      expect(outcome.ok).to.equal(true);
      expect([0, 1, 2, 3].map((s) => only(h, s).request.input)).to.deep.equal([
        { op: "a", v: [1, 2] },
        { k: 8, t: "iris got [7,8]" },
        [{ out: [7, 8] }, "one"],
        { two: 2 },
      ]);
      expect(outcome.results.get(3)?.answer.output).to.equal("end");
    });

    it("fails a step whose mapping does not resolve, naming it, and starts nothing after it", async function () {
      const h = harness(planOf([[], [0], [1]], { mappings: ["", '"$0.missing"', ""] }));
      const outcome = await h.run();
      expect(outcome).to.deep.include({ ok: false, reason: 'steps[1].inputMapping: $0.missing: no field "missing"' });
      expect(calls(h).map((c) => c.request.step)).to.deep.equal([0]);
      expect([...outcome.results.keys()]).to.deep.equal([0]);
    });

    it("stops starting steps after a failure; in-flight steps finish", async function () {
      const h = harness(planOf([[], [0], [0], [1, 2]]), (r) =>
        r.step === 1 ? { error: failure("refused", "no") } : { delayMs: r.step === 2 ? 40 : 0 },
      );
      const outcome = await h.run();
      expect(outcome).to.deep.include({ ok: false, reason: "step 1: failed after 1 tries (http://a: no)" });
      expect([...outcome.results.keys()].sort()).to.deep.equal([0, 2]);
      expect(calls(h, 3)).to.have.length(0);
      expect(h.log).to.include("done:2");
    });

    it("does not re-run the done steps of a resumed execution, and counts their cost", async function () {
      const h = harness(planOf([[], [0], [1]], { mappings: ["", '{"prev": "$0.v"}', ""] }), () => ({ cost: 2n }));
      const done: StepResult = {
        step: 0,
        provider: offer("a").address,
        answer: {
          executionId: "7",
          step: 0,
          provider: offer("a").address,
          output: { v: "kept" },
          sealedOutput: SEALED,
          record: { inputHash: ZERO, outputHash: ZERO, cost: "5" },
          signature: "0x00",
          millis: 1,
        },
        attempts: 1,
        providerMillis: 1,
        totalMillis: 1,
      };
      const outcome = await h.run({ done: new Map([[0, done]]), budget: 10n });
      expect(outcome.ok).to.equal(true);
      expect(calls(h).map((c) => c.request.step)).to.deep.equal([1, 2]);
      expect(only(h, 1).request).to.deep.include({ input: { prev: "kept" }, maxCost: "1" });
      expect(h.log.filter((e) => e.startsWith("done:"))).to.deep.equal(["done:1", "done:2"]);
      expect(outcome.results.get(0)).to.equal(done);

      // The done step's 5 counts: 10 - 5 - 2 leaves 3, short of a provider asking 4 (8 would be left otherwise).
      const dear = harness(planOf([[], [0], [1]]), () => ({ cost: 2n }), [offer("a", 4n)]);
      expect(await dear.run({ done: new Map([[0, done]]), budget: 10n })).to.deep.include({
        ok: false,
        reason: "step 2: budget exhausted (cheapest provider asks 4, 3 left)",
      });
      expect(calls(dear).map((c) => [c.request.step, c.request.maxCost])).to.deep.equal([[1, "4"]]);
    });
  });

  describe("requests", function () {
    it("has no transcript at the basic level; proof is false", async function () {
      const h = harness(planOf([[], [0]], { requiresProof: [1] }));
      await h.run();
      for (const s of [0, 1]) {
        expect(only(h, s).request).to.not.have.property("transcript");
        expect(only(h, s).request.proof).to.equal(false);
      }
    });

    for (const [level, verification] of [
      ["full", 1],
      ["zk", 2],
    ] as const) {
      it(`sends transcript sources at the ${level} level: [inputsHash] for a root, else the deps' output hashes`, async function () {
        const out: Record<number, Json> = { 0: { a: 1 }, 1: [2, "b"], 2: "c" };
        const h = harness(planOf([[], [], [0, 1], [2]], { verification, requiresProof: [3] }), (r) => ({
          output: out[r.step] ?? null,
        }));
        expect((await h.run()).ok).to.equal(true);
        const sources = [0, 1, 2, 3].map((s) => only(h, s).request.transcript?.sources);
        expect(sources).to.deep.equal([
          [INPUTS_HASH],
          [INPUTS_HASH],
          [valueHashHex({ a: 1 }, TEST_BLIND), valueHashHex([2, "b"], TEST_BLIND)],
          [valueHashHex("c", TEST_BLIND)],
        ]);
        expect([0, 1, 2, 3].map((s) => only(h, s).request.proof)).to.deep.equal([false, false, false, level === "zk"]);
      });
    }

    it("fails a proven step that does not read exactly its one source, blaming no provider", async function () {
      const two = harness(planOf([[], [], [0, 1]], { verification: 2, requiresProof: [2] }));
      expect(await two.run()).to.deep.include({
        ok: false,
        reason: "step 2: a proven inference must read exactly its one source (input mapping changes it)",
      });
      const mapped = harness(planOf([[], [0]], { verification: 2, requiresProof: [1], mappings: ["", '{"v": "$0"}'] }));
      expect(await mapped.run()).to.deep.include({
        ok: false,
        reason: "step 1: a proven inference must read exactly its one source (input mapping changes it)",
      });
      for (const h of [two, mapped]) {
        expect(calls(h).every((c) => !c.request.proof)).to.equal(true);
        expect(h.invalid).to.deep.equal([]);
      }
    });

    it("names the execution, step, type and model; timeoutMs is the step's, else the default, capped by the deadline", async function () {
      const h = harness(planOf([[], [0]]));
      await h.run();
      expect(only(h, 0).request).to.deep.include({
        executionId: "7",
        step: 0,
        stepType: "data-processing",
        model: MODEL,
        input: { x: 1 },
        maxCost: "1",
        timeoutMs: 2000,
      });
      expect(only(h, 0).timeoutMs).to.equal(2000);

      const timed = harness(planOf([[]], { timeout: 3 }));
      await timed.run();
      expect(only(timed, 0).request.timeoutMs).to.equal(3000);
      const capped = harness(planOf([[]], { timeout: 3 }));
      await capped.run({ deadline: Date.now() + 500 });
      expect(only(capped, 0).request.timeoutMs).to.be.within(400, 500);
    });
  });

  describe("failures and retries", function () {
    it("moves to another provider after an unavailable one without using a retry (no backoff)", async function () {
      const h = harness(
        planOf([[]], { maxRetries: 0 }, 5000),
        (_r, p) => (p === "a" ? { error: failure("unavailable", "down") } : { output: "from b" }),
        [offer("a"), offer("b")],
      );
      const started = performance.now();
      const outcome = await h.run();
      expect(outcome.ok).to.equal(true);
      expect(performance.now() - started).to.be.below(1000);
      expect(calls(h).map((c) => c.provider)).to.deep.equal(["a", "b"]);
      expect(h.catalog.failures).to.deep.equal(["a"]);
      expect(outcome.results.get(0)).to.deep.include({ provider: offer("b").address, attempts: 2 });
      expect(outcome.results.get(0)?.answer.output).to.equal("from b");
    });

    it("tries a provider that could not be reached after the others for the next steps, and first again once it answers", async function () {
      // One ProviderHealth across the runs, as in the keeper (one per process); a 60 s back-off.
      const health = new ProviderHealth({ baseMs: 60_000, maxMs: 600_000, logger: pino({ level: "silent" }) });
      let down = true;
      const script: Script = (_r, p) =>
        p === "a" && down ? { error: failure("unavailable", "cannot reach http://a (ECONNREFUSED)") } : {};
      const first = harness(planOf([[], [0], [1]], { maxRetries: 0 }), script, [offer("a"), offer("b")], { health });
      expect((await first.run()).ok).to.equal(true);
      // Step 0 found it down and moved on for free; steps 1 and 2 did not try it.
      expect(calls(first).map((c) => c.provider)).to.deep.equal(["a", "b", "b", "b"]);
      const next = harness(planOf([[]]), script, [offer("a"), offer("b")], { health });
      expect((await next.run()).ok).to.equal(true);
      expect(calls(next).map((c) => c.provider)).to.deep.equal(["b"]);
      // A lone candidate is still tried while marked; its answer clears the mark: "a" is first again.
      down = false;
      const lone = harness(planOf([[]]), script, [offer("a")], { health });
      expect((await lone.run()).ok).to.equal(true);
      const after = harness(planOf([[]]), script, [offer("a"), offer("b")], { health });
      expect((await after.run()).ok).to.equal(true);
      expect(calls(after).map((c) => c.provider)).to.deep.equal(["a"]);
    });

    for (const kind of ["busy", "timeout", "invalid"] as const) {
      it(`fails over for free after "${kind}" too`, async function () {
        const h = harness(planOf([[]], { maxRetries: 0 }), (_r, p) => (p === "a" ? { error: failure(kind) } : {}), [
          offer("a"),
          offer("b"),
        ]);
        expect((await h.run()).ok).to.equal(true);
        expect(calls(h).map((c) => c.provider)).to.deep.equal(["a", "b"]);
      });
    }

    it('uses a retry for "refused" even with another provider left', async function () {
      const script: Script = (_r, p) => (p === "a" ? { error: failure("refused", "400: bad input") } : {});
      const none = harness(planOf([[]], { maxRetries: 0 }), script, [offer("a"), offer("b")]);
      expect(await none.run()).to.deep.include({
        ok: false,
        reason: "step 0: failed after 1 tries (http://a: 400: bad input)",
      });
      expect(calls(none).map((c) => c.provider)).to.deep.equal(["a"]);

      const one = harness(planOf([[]], { maxRetries: 1 }), script, [offer("a"), offer("b")]);
      expect((await one.run()).ok).to.equal(true);
      expect(calls(one).map((c) => c.provider)).to.deep.equal(["a", "b"]);
    });

    // Regression test (found in review).
    it("counts attempts exactly when a retry moves to a fresh provider", async function () {
      const h = harness(planOf([[]], { maxRetries: 1 }), (_r, p) => (p === "a" ? { error: failure("refused") } : {}), [
        offer("a"),
        offer("b"),
      ]);
      const outcome = await h.run();
      expect(calls(h)).to.have.length(2);
      expect(outcome.results.get(0)?.attempts).to.equal(2);
    });

    it("retries a lone provider with exponential backoff, then fails naming the step and the last error", async function () {
      const h = harness(planOf([[]], { maxRetries: 2 }, 25), (_r, _p, n) => ({
        error: failure("timeout", `slow #${n}`),
      }));
      const outcome = await h.run();
      expect(outcome).to.deep.include({ ok: false, reason: "step 0: failed after 3 tries (http://a: slow #2)" });
      const [c0, c1, c2] = calls(h);
      expect(calls(h)).to.have.length(3);
      expect((c1?.start ?? 0) - (c0?.end ?? 0)).to.be.within(24, 80); // 25 ms
      expect((c2?.start ?? 0) - (c1?.end ?? 0)).to.be.within(49, 110); // 50 ms
      expect(h.catalog.failures).to.deep.equal(["a", "a", "a"]);
    });

    it("succeeds on a retry and waits a busy provider's Retry-After when it is longer than the backoff", async function () {
      const h = harness(planOf([[]], { maxRetries: 3 }, 5), (_r, _p, n) =>
        n === 0 ? { error: failure("busy", "at capacity", 60) } : { output: "ok" },
      );
      const outcome = await h.run();
      expect(outcome.ok).to.equal(true);
      const [c0, c1] = calls(h);
      expect((c1?.start ?? 0) - (c0?.end ?? 0)).to.be.within(59, 120);
      expect(outcome.results.get(0)?.attempts).to.equal(2);
    });

    it("reports an invalid answer (onInvalid), quarantines the provider and moves on", async function () {
      const h = harness(
        planOf([[]]),
        (_r, p) => (p === "a" ? { error: failure("invalid", "signature recovers to 0x1") } : {}),
        [offer("a"), offer("b")],
      );
      const outcome = await h.run({ executionId: 9n });
      expect(outcome.ok).to.equal(true);
      expect(h.invalid).to.deep.equal([
        { provider: "a", executionId: 9n, step: 0, message: "signature recovers to 0x1" },
      ]);
      expect([...h.catalog.quarantined]).to.deep.equal([
        [offer("a").address, { millis: 60_000, reason: "signature recovers to 0x1" }],
      ]);
      expect(outcome.results.get(0)?.provider).to.equal(offer("b").address);
    });

    it("fails a step no provider offers", async function () {
      const h = harness(planOf([[]]), () => ({}), []);
      expect(await h.run()).to.deep.include({
        ok: false,
        reason: `step 0: no active provider offers data-processing for model ${MODEL}`,
      });
    });
  });

  describe("budget", function () {
    it("fails a step whose cheapest provider costs more than what is left, without dispatching it", async function () {
      const h = harness(planOf([[]]), () => ({}), [offer("a", 20n), offer("b", 12n)]);
      expect(await h.run({ budget: 10n })).to.deep.include({
        ok: false,
        reason: "step 0: budget exhausted (cheapest provider asks 12, 10 left)",
      });
      expect(calls(h)).to.have.length(0);
    });

    it("takes the first affordable provider, and spends what the answers cost (maxCost = its price)", async function () {
      const h = harness(planOf([[], [0], [1]]), () => ({ cost: 2n }), [offer("a", 20n), offer("b", 6n)]);
      const outcome = await h.run({ budget: 10n });
      expect(outcome.ok).to.equal(true);
      expect(calls(h).map((c) => [c.provider, c.request.maxCost])).to.deep.equal([
        ["b", "6"],
        ["b", "6"],
        ["b", "6"],
      ]);
      // 10 - 2 - 2 = 6 is left for the third step: exactly its price. A fourth at 6 would not fit (4 left).
      const four = harness(planOf([[], [0], [1], [2]]), () => ({ cost: 2n }), [offer("b", 6n)]);
      expect(await four.run({ budget: 10n })).to.deep.include({
        ok: false,
        reason: "step 3: budget exhausted (cheapest provider asks 6, 4 left)",
      });
    });

    it("counts the price reserved by steps in flight", async function () {
      const h = harness(planOf([[], []]), () => ({ delayMs: 20 }), [offer("a", 6n)]);
      const outcome = await h.run({ budget: 10n });
      expect(outcome).to.deep.include({
        ok: false,
        reason: "step 1: budget exhausted (cheapest provider asks 6, 4 left)",
      });
      expect([...outcome.results.keys()]).to.deep.equal([0]); // the step in flight finished
    });

    // Regression test (found in review).
    it("retries on an affordable provider already tried rather than fail on an unaffordable fresh one", async function () {
      const h = harness(
        planOf([[]], { maxRetries: 1 }),
        (_r, p, n) => (p === "a" && n === 0 ? { error: failure("refused") } : {}),
        [offer("a", 1n), offer("b", 100n)],
      );
      const outcome = await h.run({ budget: 10n });
      expect(outcome.ok).to.equal(true);
      expect(calls(h).map((c) => c.provider)).to.deep.equal(["a", "a"]);
    });
  });

  describe("deadline and shutdown", function () {
    it("stops retrying when the execution's max time has passed, naming the last error", async function () {
      const h = harness(planOf([[]], { maxRetries: 50 }), () => ({ delayMs: 1_000_000 }));
      const started = Date.now();
      const outcome = await h.run({ deadline: started + 120 });
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      expect(outcome.reason).to.match(
        /^step 0: the execution's max time has passed \(http:\/\/a: no answer within \d+ ms\)$/,
      );
      expect(Date.now() - started).to.be.within(115, 400);
      expect(calls(h)[0]?.timeoutMs).to.be.within(100, 120);
    });

    it("does not start a step past the deadline", async function () {
      const h = harness(planOf([[]]));
      expect(await h.run({ deadline: Date.now() - 1 })).to.deep.include({
        ok: false,
        reason: "step 0: the execution's max time has passed (no attempt made)",
      });
      expect(calls(h)).to.have.length(0);
    });

    it("stops on the abort signal", async function () {
      const controller = new AbortController();
      controller.abort();
      const h = harness(planOf([[]]));
      expect(await h.run({ signal: controller.signal })).to.deep.include({
        ok: false,
        reason: "step 0: keeper shutting down",
      });
    });
  });
});
