import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { circuitSpec } from "../../../circuits/circuits.js";
import { Prover, toSolidityProof } from "../../../circuits/lib/prover.js";
import { required } from "../../lib/args.js";
import { readProofFile } from "../../lib/proof-file.js";
import { loadProtocol } from "../../lib/protocol.js";

interface Args {
  proof: string;
  onchain: boolean;
}

const VERIFIER_KEYS = {
  receipt: "receiptVerifier",
  workflow: "workflowVerifier",
  inference: "inferenceVerifier",
} as const;

/** Verifies a proof file off-chain (verification key) and, with --onchain, against the deployed verifier. */
export default async function verify(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  const prover = new Prover();
  try {
    const file = readProofFile(required("proof", args.proof));
    const spec = circuitSpec(file.circuit);
    const offchain = await prover.verify(spec.name, file.proof, file.publicSignals);
    console.log(`${spec.name}: off-chain verification ${offchain ? "PASSED" : "FAILED"}`);
    let ok = offchain;
    if (args.onchain) {
      const { ethers } = await hre.network.getOrCreate();
      const protocol = await loadProtocol(ethers);
      const key = VERIFIER_KEYS[spec.name as keyof typeof VERIFIER_KEYS];
      const verifier = protocol[key] as unknown as {
        verifyProof: (...args: unknown[]) => Promise<boolean>;
        getAddress: () => Promise<string>;
      };
      const p = toSolidityProof(file.proof);
      const onchain = await verifier.verifyProof(p.a, p.b, p.c, file.publicSignals);
      console.log(
        `${spec.name}: on-chain verification (${await verifier.getAddress()}) ${onchain ? "PASSED" : "FAILED"}`,
      );
      ok &&= onchain;
    }
    if (!ok) throw new Error(`${args.proof}: the proof does not verify`);
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  } finally {
    await prover.close();
  }
}
