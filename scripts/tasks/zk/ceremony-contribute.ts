import path from "node:path";
import { createInterface } from "node:readline/promises";

import { required } from "../../lib/args.js";
import { ceremonyFiles, contribute as contributeStep, type Entropy } from "../../zk/ceremony.js";
import { guarded, seconds, target, type Common } from "./ceremony-common.js";

async function typedEntropy(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question("Type some random text (it is mixed with 64 bytes from the OS generator): ");
  } finally {
    rl.close();
  }
}

/** One participant's contribution to a circuit's ceremony (randomness: the OS generator, typed, or --entropy). */
export default async function contribute(
  args: Common & { name: string; entropy: string; promptEntropy: boolean },
): Promise<void> {
  await guarded(async () => {
    const { circuit, dir } = target(args);
    const participant = required("name", args.name);
    if (args.entropy !== "" && args.promptEntropy) throw new Error("--entropy and --prompt-entropy: give one");
    const entropy: Entropy = args.promptEntropy
      ? { kind: "typed", text: await typedEntropy() }
      : args.entropy !== ""
        ? { kind: "passed", text: args.entropy }
        : { kind: "os" };
    const started = performance.now();
    const c = await contributeStep({
      circuit,
      dir,
      participant,
      entropy,
      echo: (m) => {
        console.log(m);
      },
    });
    const file = ceremonyFiles(dir, circuit).zkey(c.index);
    console.log(`${circuit}: contribution #${c.index} by ${c.participant} written to ${file} (${seconds(started)}).`);
    console.log(`Publish your contribution hash: ${c.hash}`);
    console.log(
      `Pass ${path.basename(file)} and transcript.json to the next participant; delete nothing else you kept.`,
    );
  });
}
