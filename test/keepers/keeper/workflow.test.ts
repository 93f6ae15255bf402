/**
 * Workflow plans (keepers/keeper/workflow.ts): topological order, cycle and mapping errors, default mappings,
 * applyMapping's references and interpolation; the spec hash and fetchWorkflowSpec against Workflows on an
 * in-process Hardhat chain; and protocol/workflow-spec.ts's conversion of step ids to indices.
 */
import { readFileSync } from "node:fs";

import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, custom, keccak256, toHex, type Hex } from "viem";

import { fieldToBytes32 } from "../../../circuits/lib/field.js";
import { irisModelHash, loadIrisModel } from "../../../circuits/lib/iris.js";
import type { Json } from "../../../protocol/values.js";
import {
  applyMapping,
  fetchWorkflowSpec,
  planWorkflow,
  specHashOf,
  type WorkflowPlan,
} from "../../../keepers/keeper/workflow.js";
import { toWorkflowSpec, type WorkflowSpec } from "../../../protocol/workflow-spec.js";
import { deployProtocol } from "../../../scripts/lib/deploy.js";
import { specHash as ethersSpecHash } from "../../helpers/workflows.js";

const MODEL: Hex = keccak256(toHex("aitbc.data.v1"));
const ZERO: Hex = `0x${"0".repeat(64)}`;
const EXAMPLE = JSON.parse(readFileSync("examples/iris-report.workflow.json", "utf8")) as Record<string, unknown>;

type RawStep = WorkflowSpec["steps"][number];

/** A data-processing workflow whose step i depends on deps[i] (mapping[i] as its input mapping, default ""). */
function rawSpec(deps: number[][], mappings: string[] = [], overrides: Partial<RawStep> = {}): WorkflowSpec {
  return {
    name: "test",
    steps: deps.map((dependsOn, i) => ({
      stepType: 2,
      model: MODEL,
      inputMapping: mappings[i] ?? "",
      outputMapping: `out${i}`,
      timeout: 30,
      maxRetries: 1,
      retryBackoff: 2,
      requiresProof: false,
      dependsOn,
      ...overrides,
    })),
    maxExecutionTime: 600n,
    maxBudget: 5n,
    verification: 0,
  };
}

const plan = (deps: number[][], mappings: string[] = []): WorkflowPlan =>
  planWorkflow(1n, rawSpec(deps, mappings), ZERO);

describe("keepers: workflow plans", function () {
  describe("planWorkflow", function () {
    it("orders steps dependencies first, lowest ready index first, with parallel branches", function () {
      const cases: [number[][], number[]][] = [
        [
          [[], [0], [0], [1, 2]],
          [0, 1, 2, 3],
        ], // diamond
        [
          [[2], [], [1], [0, 2]],
          [1, 2, 0, 3],
        ], // listed out of order
        [
          [[], [], [0], [1], [2, 3]],
          [0, 1, 2, 3, 4],
        ], // two roots, two branches, a join
        [
          [[3], [3], [], []],
          [2, 3, 0, 1],
        ],
      ];
      for (const [deps, order] of cases) expect(plan(deps).order, JSON.stringify(deps)).to.deep.equal(order);
    });

    it("orders a 60-step layered DAG so that every dependency comes first", function () {
      const deps = Array.from({ length: 60 }, (_, i) => (i < 6 ? [] : [i - 1, i - 6]));
      const { order } = plan(deps);
      expect([...order].sort((a, b) => a - b)).to.deep.equal(deps.map((_, i) => i));
      const at = new Map(order.map((s, k) => [s, k]));
      deps.forEach((ds, i) => {
        for (const d of ds) expect(at.get(d)).to.be.below(at.get(i) ?? -1);
      });
    });

    it("rejects a cycle naming a step on it", function () {
      expect(() => plan([[1], [0]])).to.throw("steps[0]: the workflow has a cycle");
      expect(() => plan([[], [2], [3], [1]])).to.throw("steps[1]: the workflow has a cycle");
    });

    it("rejects a dependency on itself or outside the workflow, naming steps[i].dependsOn", function () {
      expect(() => plan([[], [1]])).to.throw("steps[1].dependsOn: bad dependency 1");
      expect(() => plan([[], [0, 2]])).to.throw("steps[1].dependsOn: bad dependency 2");
    });

    // Regression test (found in review).
    it("accepts a dependency listed twice (as Workflows.sol does)", function () {
      expect(plan([[], [], [1, 0, 1, 0]]).order).to.deep.equal([0, 1, 2]);
    });

    it("rejects an input mapping that is not JSON, naming steps[i].inputMapping", function () {
      expect(() => plan([[], [0]], ["", "{op: 1}"])).to.throw(/^steps\[1\]\.inputMapping: not JSON \(/);
      expect(() => plan([[]], ["[1,"])).to.throw(/^steps\[0\]\.inputMapping: not JSON \(/);
    });

    it("rejects a $k reference to a step that is not a dependency, wherever it is", function () {
      const cases: [string, string][] = [
        ['"$0"', "$0"],
        ['{"a": ["$1.x"]}', "$1"],
        ['"label {{$0.name}}"', "$0"],
        ['{"deep": {"x": "{{$in}} {{$3}}"}}', "$3"],
      ];
      for (const [mapping, ref] of cases) {
        expect(() => plan([[], [], [1], [2], [2]], ["", "", "", "", mapping]), mapping).to.throw(
          `steps[4].input: ${ref} is not a dependency of step 4: add it to dependsOn`,
        );
      }
      expect(
        plan([[], [], [1], [2], [2]], ["", "", "", "", '{"a": "$2.x", "b": "{{$in.y}}"}']).steps[4]?.mapping,
      ).to.deep.equal({
        a: "$2.x",
        b: "{{$in.y}}",
      });
    });

    it("defaults an empty mapping to $in for a root, $d for one dependency, [$d1, $d2, ..] for several", function () {
      const p = plan([[], [0], [1, 0], [0, 1, 2]], ["", " ", "", ""]);
      expect(p.steps.map((s) => s.mapping)).to.deep.equal(["$in", "$0", ["$1", "$0"], ["$0", "$1", "$2"]]);
    });

    it("carries the step fields over in ms, and the level, limits and hash", function () {
      const spec = { ...rawSpec([[], [0]]), verification: 2 };
      const p = planWorkflow(9n, spec, `0x${"ab".repeat(32)}`);
      expect({ ...p, steps: undefined }).to.deep.equal({
        workflowId: 9n,
        name: "test",
        level: "zk",
        maxExecutionTimeMs: 600_000,
        maxBudget: 5n,
        specHash: `0x${"ab".repeat(32)}`,
        steps: undefined,
        order: [0, 1],
      });
      expect(p.steps[1]).to.deep.equal({
        index: 1,
        stepType: "data-processing",
        model: MODEL,
        mapping: "$0",
        outputName: "out1",
        deps: [0],
        timeoutMs: 30_000,
        maxRetries: 1,
        backoffMs: 2000,
        requiresProof: false,
      });
      expect(() => planWorkflow(9n, { ...spec, verification: 3 }, ZERO)).to.throw(
        "workflow 9: unknown verification level 3",
      );
    });
  });

  describe("applyMapping", function () {
    const inputs: Json = { cm: [5.1, 3.5], name: "iris", nested: { a: [{ b: 1 }], n: null } };
    const outputs = new Map<number, Json>([
      [0, { label: "setosa", scores: ["1", "2"] }],
      [3, [10, 20]],
      [5, "text"],
    ]);
    const map = (mapping: Json) => applyMapping(mapping, inputs, outputs);

    it("replaces references ($in, $k) and paths into objects and arrays", function () {
      const cases: [Json, Json][] = [
        ["$in", inputs],
        ["$in.cm", [5.1, 3.5]],
        ["$in.cm.1", 3.5],
        ["$in.nested.a.0.b", 1],
        ["$in.nested.n", null],
        ["$0.scores.1", "2"],
        ["$3.0", 10],
        ["$5", "text"],
        [
          { x: ["$0.label", 7, null, true], y: { z: "$3" } },
          { x: ["setosa", 7, null, true], y: { z: [10, 20] } },
        ],
        ["$nope", "$nope"],
        ["costs $3 only", "costs $3 only"],
        [42, 42],
      ];
      for (const [mapping, expected] of cases) expect(map(mapping), JSON.stringify(mapping)).to.deep.equal(expected);
    });

    it("interpolates {{...}} inside text: strings as they are, other values as JSON", function () {
      const cases: [string, string][] = [
        ["species {{$0.label}}", "species setosa"],
        ["cm {{$in.cm}} and {{$3}}", "cm [5.1,3.5] and [10,20]"],
        ["b={{$in.nested.a.0.b}}, n={{$in.nested.n}}", "b=1, n=null"],
        ["{{$0}}", '{"label":"setosa","scores":["1","2"]}'],
        ["{{$5}}{{$5}}", "texttext"],
      ];
      for (const [mapping, expected] of cases) expect(map(mapping), mapping).to.equal(expected);
      expect(map({ report: ["{{$in.name}}: {{$0.label}}"] })).to.deep.equal({ report: ["iris: setosa"] });
    });

    it("throws naming the reference and the missing field or step", function () {
      const cases: [Json, string][] = [
        ["$in.missing", 'input: $in.missing: no field "missing"'],
        ["$0.scores.5", 'input: $0.scores.5: no field "5"'],
        ["$in.cm.x", 'input: $in.cm.x: no field "x"'],
        ["$0.label.length", 'input: $0.label.length: no field "length"'],
        ["$in.nested.n.x", 'input: $in.nested.n.x: no field "x"'],
        ["$2", "input: $2: step 2 has no output yet"],
        [{ a: ["x {{$0.nope}}"] }, 'input: $0.nope: no field "nope"'],
      ];
      for (const [mapping, message] of cases) expect(() => map(mapping), JSON.stringify(mapping)).to.throw(message);
      expect(() => applyMapping("$in.q", {}, new Map(), "steps[4].inputMapping")).to.throw(
        'steps[4].inputMapping: $in.q: no field "q"',
      );
    });

    // Regression test (found in review).
    it('rejects inherited properties ("$in.constructor") as missing fields', function () {
      expect(() => map("$in.constructor")).to.throw('input: $in.constructor: no field "constructor"');
      expect(() => map("$in.__proto__")).to.throw('input: $in.__proto__: no field "__proto__"');
    });
  });

  describe("protocol/workflow-spec.ts toWorkflowSpec", function () {
    it("turns $<step id> references into $<index>, also inside {{...}}, and keeps $in", function () {
      const spec = toWorkflowSpec(EXAMPLE);
      expect(spec.steps.map((s) => s.inputMapping)).to.deep.equal([
        '{"op":"iris-features","cm":"$in.cm"}',
        '"$0"',
        '{"op":"lookup","table":["setosa","versicolor","virginica"],"key":"$1.predictedClass"}',
        '{"op":"stats","data":"$1.scores"}',
        '{"op":"format","template":"Iris flower {cm}: {species} (class scores from {min} to {max}, spread {spread})",' +
          '"data":{"cm":"{{$in.cm}}","species":"$2","min":"$3.min","max":"$3.max","spread":"$3.spread"}}',
      ]);
      const inline = toWorkflowSpec({
        name: "w",
        maxExecutionTime: 60,
        maxBudget: "1",
        steps: [
          { id: "a-1", type: "data-processing" },
          { id: "b", type: "data-processing", dependsOn: ["a-1"], input: "x {{$a-1.v}} y" },
        ],
      });
      expect(inline.steps[1]?.inputMapping).to.equal('"x {{$0.v}} y"');
      expect(inline.steps[1]?.dependsOn).to.deep.equal([0]);
    });

    it("rejects an unknown step id in input or dependsOn, naming the field", function () {
      const steps = (input: Json, dependsOn: string[] = ["a"]) => ({
        name: "w",
        maxExecutionTime: 60,
        maxBudget: "1",
        steps: [
          { id: "a", type: "data-processing" },
          { id: "b", type: "data-processing", dependsOn, input },
        ],
      });
      expect(() => toWorkflowSpec(steps({ k: ["$nope.x"] }), "f.json")).to.throw(
        'f.json: steps[1].input: "$nope" is not a step id',
      );
      expect(() => toWorkflowSpec(steps("{{$zz}}"))).to.throw('workflow: steps[1].input: "$zz" is not a step id');
      expect(() => toWorkflowSpec(steps("$a", ["q"]))).to.throw('workflow: steps[1].dependsOn[0] "q" is not a step id');
    });
  });

  describe("protocol/workflow-spec.ts: specs a keeper could never run are refused at define time", function () {
    const base = () => ({
      name: "w",
      maxExecutionTime: 60,
      maxBudget: "1",
      steps: [
        { id: "a", type: "data-processing" } as Record<string, unknown>,
        { id: "b", type: "data-processing", dependsOn: ["a"], input: "$a" } as Record<string, unknown>,
      ],
    });

    it("refuses unknown keys, naming the field and the likely one (typos used to be dropped silently)", function () {
      const typo = base();
      typo.steps[1] = { id: "b", type: "data-processing", depends_on: ["a"], input: "$a" };
      expect(() => toWorkflowSpec(typo, "f.json")).to.throw(
        "f.json: steps[1].depends_on is not a known field (did you mean dependsOn?)",
      );
      const timeout = base();
      timeout.steps[0] = { id: "a", type: "data-processing", timout: 30 };
      expect(() => toWorkflowSpec(timeout)).to.throw(
        "workflow: steps[0].timout is not a known field (did you mean timeout?)",
      );
      expect(() => toWorkflowSpec({ ...base(), budget: "3" })).to.throw(
        "workflow: budget is not a known field (did you mean maxBudget?)",
      );
      expect(() => toWorkflowSpec({ ...base(), colour: 1 })).to.throw(
        "workflow: colour is not a known field; known: name, maxExecutionTime",
      );
      expect(() => toWorkflowSpec({ ...base(), steps: [1] })).to.throw("workflow: steps[0] must be an object");
    });

    it("refuses a mapping that names a step that is not a dependency, in the file's own step ids", function () {
      const spec = base();
      spec.steps[1] = { id: "b", type: "data-processing", input: { x: "$a.v" } };
      expect(() => toWorkflowSpec(spec, "f.json")).to.throw(
        'f.json: steps[1].input: "$a" (step 0) is not a dependency of step 1: add it to dependsOn',
      );
      // with the dependency the same spec is accepted, and the keeper plans it
      spec.steps[1] = { id: "b", type: "data-processing", dependsOn: ["a"], input: { x: "$a.v" } };
      expect(planWorkflow(1n, toWorkflowSpec(spec), ZERO).steps[1]?.deps).to.deep.equal([0]);
    });

    it("refuses a cycle and a step depending on itself before anything is sent", function () {
      const cycle = base();
      cycle.steps[0] = { id: "a", type: "data-processing", dependsOn: ["b"], input: "$b" };
      expect(() => toWorkflowSpec(cycle)).to.throw("workflow: steps[0]: the workflow has a cycle");
      const self = base();
      self.steps[0] = { id: "a", type: "data-processing", dependsOn: ["a"] };
      expect(() => toWorkflowSpec(self)).to.throw("workflow: steps[0].dependsOn: bad dependency 0");
    });

    it("keeps accepting the example workflow", function () {
      expect(toWorkflowSpec(EXAMPLE).steps).to.have.length(5);
    });
  });

  describe("on chain: specHashOf and fetchWorkflowSpec", function () {
    it("hash, fetch and plan examples/iris-report.workflow.json as Workflows.sol defines it", async function () {
      const conn = await network.create();
      const f = await deployProtocol(conn);
      const struct = toWorkflowSpec(EXAMPLE);
      const spec = struct;
      const receipt = await (await f.workflows.connect(f.client).defineWorkflow(struct)).wait();
      const onChain = await f.workflows.getWorkflow(1n);
      expect(onChain.stepCount).to.equal(5n);
      expect(specHashOf(spec)).to.equal(onChain.specHash);
      expect(specHashOf(spec)).to.equal(ethersSpecHash(struct));

      const client = createPublicClient({ transport: custom(conn.provider) });
      const address = (await f.workflows.getAddress()) as Hex;
      const fetched = await fetchWorkflowSpec(client, address, 1n, 0n);
      expect(fetched).to.deep.equal(spec);

      const p = planWorkflow(1n, fetched, specHashOf(fetched));
      expect([p.name, p.level, p.maxExecutionTimeMs, p.maxBudget]).to.deep.equal([
        "iris-report",
        "zk",
        1_800_000,
        10n * 10n ** 18n,
      ]);
      expect(p.order).to.deep.equal([0, 1, 2, 3, 4]);
      expect(p.steps.map((s) => s.deps)).to.deep.equal([[], [0], [1], [1], [2, 3]]);
      expect(p.steps.map((s) => s.stepType)).to.deep.equal([
        "data-processing",
        "inference",
        "data-processing",
        "data-processing",
        "data-processing",
      ]);
      expect(p.steps.map((s) => s.requiresProof)).to.deep.equal([false, true, false, false, false]);
      expect(p.steps[1]?.model).to.equal(fieldToBytes32(irisModelHash(loadIrisModel())));
      expect(p.steps[0]?.model).to.equal(MODEL);
      expect(p.steps[1]?.mapping).to.equal("$0");
      expect(p.steps[1]).to.include({ timeoutMs: 60_000, maxRetries: 2, backoffMs: 1000, outputName: "prediction" });

      // The report step's mapping over the run's values.
      const outputs = new Map<number, Json>([
        [2, "setosa"],
        [3, { count: 3, min: "-5", max: "9", mean: "1", spread: "14" }],
      ]);
      expect(applyMapping(p.steps[4]?.mapping ?? null, { cm: [5.1, 3.5, 1.4, 0.2] }, outputs)).to.deep.equal({
        op: "format",
        template: "Iris flower {cm}: {species} (class scores from {min} to {max}, spread {spread})",
        data: { cm: "[5.1,3.5,1.4,0.2]", species: "setosa", min: "-5", max: "9", spread: "14" },
      });

      const after = BigInt(receipt?.blockNumber ?? 0) + 1n;
      await expect(fetchWorkflowSpec(client, address, 1n, after)).to.be.rejectedWith(
        `workflow 1: no WorkflowDefined event since block ${after}`,
      );
    });
  });
});
