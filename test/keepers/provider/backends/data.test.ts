/**
 * The provider's data backend (keepers/provider/backends/data.ts), table-driven: each operation on good inputs,
 * then every bad argument answered by a 400 naming its field.
 */
import { expect } from "chai";

import { HttpError } from "../../../../keepers/common/http.js";
import { canonicalJson, parseBlind, valueHash } from "../../../../protocol/values.js";
import type { Json } from "../../../../protocol/values.js";
import { DATA_OPS, runDataOp } from "../../../../keepers/provider/backends/data.js";
import { irisInputHash } from "../../../../circuits/lib/iris.js";
import { blindToHex, contentHash, poseidonHash, randomBlind } from "../../../../circuits/lib/field.js";
import { TEST_BLIND } from "../../../helpers/proofs.js";

const ada: Json = { name: "ada", age: 36, tags: ["math", "code"] };
const bob: Json = { name: "bob", age: 25, tags: ["art"] };
const cy: Json = { name: "cy", age: 41, tags: [] };
const people: Json = [ada, bob, cy];

const GOOD: [string, Json, Json][] = [
  [
    "iris-features",
    { op: "iris-features", cm: [5.1, 3.5, 1.4, 0.2] },
    { kind: "iris-features", features: [51, 35, 14, 2] },
  ],
  ["lookup in an array", { op: "lookup", table: ["setosa", "versicolor", "virginica"], key: 1 }, "versicolor"],
  ["lookup in an object", { op: "lookup", table: { setosa: { id: 0 } }, key: "setosa" }, { id: 0 }],
  [
    "stats over numbers and decimal strings",
    { op: "stats", data: [1, "2", 3.5, "-0.5"] },
    { count: 4, min: -0.5, max: 3.5, mean: 1.5, spread: 4 },
  ],
  [
    "format with nested paths",
    {
      op: "format",
      template: "{name} is class {p.cls} ({p.scores.1}) {{x}}",
      data: { name: "it", p: { cls: 2, scores: [1, "hi"] }, x: 1 },
    },
    "it is class 2 (hi) {1}",
  ],
  [
    "format of a non-string value",
    { op: "format", template: "v={v}", data: { v: { b: 1, a: [true] } } },
    'v={"a":[true],"b":1}',
  ],
  ["filter eq", { op: "filter", data: people, where: { field: "name", op: "eq", value: "bob" } }, [bob]],
  ["filter ne", { op: "filter", data: people, where: { field: "age", op: "ne", value: 25 } }, [ada, cy]],
  ["filter gt", { op: "filter", data: people, where: { field: "age", op: "gt", value: 36 } }, [cy]],
  ["filter gte", { op: "filter", data: people, where: { field: "age", op: "gte", value: 36 } }, [ada, cy]],
  ["filter lt", { op: "filter", data: people, where: { field: "age", op: "lt", value: 36 } }, [bob]],
  [
    "filter lte on strings",
    { op: "filter", data: people, where: { field: "name", op: "lte", value: "bob" } },
    [ada, bob],
  ],
  ["filter in", { op: "filter", data: people, where: { field: "name", op: "in", value: ["cy", "zed"] } }, [cy]],
  [
    "filter contains (array)",
    { op: "filter", data: people, where: { field: "tags", op: "contains", value: "art" } },
    [bob],
  ],
  [
    "filter contains (string)",
    { op: "filter", data: people, where: { field: "name", op: "contains", value: "d" } },
    [ada],
  ],
  [
    "filter on a missing field",
    { op: "filter", data: [{ a: 1 }, { b: 2 }], where: { field: "b", op: "eq", value: 2 } },
    [{ b: 2 }],
  ],
  ["pick", { op: "pick", data: { a: 1, b: [2], c: 3 }, fields: ["b", "a"] }, { b: [2], a: 1 }],
  ["sort numbers (default asc)", { op: "sort", data: [3, 1, 2] }, [1, 2, 3]],
  ["sort strings desc", { op: "sort", data: ["b", "c", "a"], order: "desc" }, ["c", "b", "a"]],
  [
    "sort by a field, stable",
    {
      op: "sort",
      data: [
        { k: 2, i: 0 },
        { k: 1, i: 1 },
        { k: 2, i: 2 },
      ],
      by: "k",
    },
    [
      { k: 1, i: 1 },
      { k: 2, i: 0 },
      { k: 2, i: 2 },
    ],
  ],
  [
    "transform",
    {
      op: "transform",
      data: { a: { b: 7 }, list: [1, 2] },
      template: { x: "$.a.b", y: ["$.list.1", "plain", 3], all: "$", s: "$x" },
    },
    { x: 7, y: [2, "plain", 3], all: { a: { b: 7 }, list: [1, 2] }, s: "$x" },
  ],
];

const BAD: [string, Json, string][] = [
  ["a non-object input", [1, 2], "input"],
  ["no op", { cm: [1, 2, 3, 4] }, "input.op"],
  ["an unknown op", { op: "explode" }, "input.op"],
  ["an inherited property as op", { op: "toString" }, "input.op"],
  ["an unknown argument", { op: "sort", data: [], extra: 1 }, "input.extra"],
  ["a missing argument", { op: "iris-features" }, "input.cm"],
  ["cm not an array", { op: "iris-features", cm: "5.1" }, "input.cm"],
  ["cm with a string", { op: "iris-features", cm: [5.1, "3.5", 1.4, 0.2] }, "input.cm[1]"],
  ["cm with 3 values", { op: "iris-features", cm: [5.1, 3.5, 1.4] }, "input.cm"],
  ["cm out of range", { op: "iris-features", cm: [5.1, 3.5, 30, 0.2] }, "input.cm[2]"],
  ["cm with two decimals", { op: "iris-features", cm: [5.15, 3.5, 1.4, 0.2] }, "input.cm[0]"],
  ["lookup past an array's end", { op: "lookup", table: [1], key: 1 }, "input.key"],
  ["lookup with a negative index", { op: "lookup", table: [1], key: -1 }, "input.key"],
  ["lookup with a string key in an array", { op: "lookup", table: [1], key: "0" }, "input.key"],
  ["lookup of a missing key", { op: "lookup", table: { a: 1 }, key: "b" }, "input.key"],
  ["lookup with a number key in an object", { op: "lookup", table: { a: 1 }, key: 0 }, "input.key"],
  ["lookup in a scalar", { op: "lookup", table: 3, key: 0 }, "input.table"],
  ["stats over nothing", { op: "stats", data: [] }, "input.data"],
  ["stats over a word", { op: "stats", data: [1, "two"] }, "input.data[1]"],
  ["stats over a non-array", { op: "stats", data: { a: 1 } }, "input.data"],
  ["format without a template string", { op: "format", template: 3, data: {} }, "input.template"],
  ["format over a non-object", { op: "format", template: "{a}", data: [1] }, "input.data"],
  ["format with a missing key", { op: "format", template: "{p.missing}", data: { p: {} } }, "input.data.p.missing"],
  ["format with an empty placeholder", { op: "format", template: "{}", data: {} }, "input.template"],
  ["filter over a non-array", { op: "filter", data: {}, where: { field: "a", op: "eq", value: 1 } }, "input.data"],
  [
    "filter over a non-object record",
    { op: "filter", data: [{}, 2], where: { field: "a", op: "eq", value: 1 } },
    "input.data[1]",
  ],
  ["filter without where", { op: "filter", data: [], where: "a=1" }, "input.where"],
  ["filter without a field", { op: "filter", data: [], where: { op: "eq", value: 1 } }, "input.where.field"],
  ["filter with a bad op", { op: "filter", data: [], where: { field: "a", op: "like", value: 1 } }, "input.where.op"],
  ["filter without a value", { op: "filter", data: [], where: { field: "a", op: "eq" } }, "input.where.value"],
  ["filter in a non-array", { op: "filter", data: [], where: { field: "a", op: "in", value: 1 } }, "input.where.value"],
  ["filter gt an object", { op: "filter", data: [], where: { field: "a", op: "gt", value: {} } }, "input.where.value"],
  [
    "filter on a bad path",
    { op: "filter", data: [{ a: 1 }], where: { field: "a..b", op: "eq", value: 1 } },
    "input.where.field",
  ],
  ["pick from a non-object", { op: "pick", data: [1], fields: [] }, "input.data"],
  ["pick without a field list", { op: "pick", data: {}, fields: "a" }, "input.fields"],
  ["pick a non-string field", { op: "pick", data: { a: 1 }, fields: [1] }, "input.fields[0]"],
  ["pick a missing field", { op: "pick", data: { a: 1 }, fields: ["a", "b"] }, "input.fields[1]"],
  ["sort a non-array", { op: "sort", data: "abc" }, "input.data"],
  ["sort mixed types", { op: "sort", data: [1, "a"] }, "input.data"],
  ["sort objects without by", { op: "sort", data: [{ a: 1 }] }, "input.data[0]"],
  ["sort by a missing field", { op: "sort", data: [{ k: 1 }, { j: 2 }], by: "k" }, "input.data[1].k"],
  ["sort by an empty field", { op: "sort", data: [], by: "" }, "input.by"],
  ["sort in a bad order", { op: "sort", data: [], order: "up" }, "input.order"],
  [
    "transform with a missing path",
    { op: "transform", data: { a: 1 }, template: { x: ["$.b"] } },
    "input.template.x[0]",
  ],
];

describe("provider data backend", function () {
  it("lists its operations", function () {
    expect(DATA_OPS).to.have.members([
      "iris-features",
      "lookup",
      "stats",
      "format",
      "filter",
      "pick",
      "sort",
      "transform",
    ]);
  });

  for (const [title, input, output] of GOOD) {
    it(`runs ${title}`, function () {
      expect(runDataOp(input)).to.deep.equal(output);
    });
  }

  it("makes iris features the inference step reads (typed value, Poseidon hash)", function () {
    const features = runDataOp({ op: "iris-features", cm: [6.3, 3.3, 6.0, 2.5] });
    expect(valueHash(features, TEST_BLIND)).to.equal(irisInputHash([63n, 33n, 60n, 25n], TEST_BLIND));
  });

  it("blinds every value hash with the execution's blind (protocol/values.ts): another blind, another hash; parseBlind refuses what is not 31 non-zero bytes", function () {
    const features = runDataOp({ op: "iris-features", cm: [6.3, 3.3, 6.0, 2.5] });
    const stats: Json = { count: 2, mean: 7 };
    for (const value of [features, stats, "text", null]) {
      expect(valueHash(value, TEST_BLIND)).to.not.equal(valueHash(value, TEST_BLIND + 1n));
    }
    expect(valueHash(features, TEST_BLIND)).to.not.equal(poseidonHash([63n, 33n, 60n, 25n]));
    expect(valueHash(stats, TEST_BLIND)).to.equal(poseidonHash([contentHash(canonicalJson(stats)), TEST_BLIND]));
    expect(parseBlind(blindToHex(TEST_BLIND))).to.equal(TEST_BLIND);
    expect(() => parseBlind(`0x${"00".repeat(31)}`)).to.throw(/^blind: a blind must not be 0/);
    expect(() => parseBlind(`0x${"ff".repeat(32)}`)).to.throw(/^blind: must be 0x and 62 hex digits/);
    expect(() => parseBlind(7)).to.throw(/^blind: must be 0x and 62 hex digits/);
    const fresh = [randomBlind(), randomBlind()];
    expect(fresh[0]).to.not.equal(fresh[1]);
    for (const b of fresh) expect(parseBlind(blindToHex(b))).to.equal(b);
  });

  it("hashes only exact typed values and refuses keys that parsers disagree on", function () {
    const features = runDataOp({ op: "iris-features", cm: [6.3, 3.3, 6.0, 2.5] }) as { [k: string]: Json };
    expect(() => valueHash({ ...features, label: "virginica" }, TEST_BLIND)).to.throw(
      /input\.label: not a field of a "iris-features" value/,
    );
    const prediction: Json = { kind: "iris-prediction", predictedClass: 2, scores: ["1", "2", "3"], note: "x" };
    expect(() => valueHash(prediction, TEST_BLIND)).to.throw(/output\.note: not a field/);
    expect(() => valueHash(JSON.parse('{"a":1,"__proto__":{"b":2}}') as Json, TEST_BLIND)).to.throw(
      /"__proto__" is not allowed/,
    );
  });

  for (const [title, input, field] of BAD) {
    it(`refuses ${title}, naming ${field}`, function () {
      let caught: unknown;
      try {
        runDataOp(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(HttpError);
      const error = caught as HttpError;
      expect(error.status).to.equal(400);
      expect(error.field).to.equal(field);
      expect(error.message.startsWith(`${field}: `), error.message).to.equal(true);
    });
  }
});
