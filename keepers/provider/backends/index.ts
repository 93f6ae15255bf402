/**
 * The one place that turns a configured service into a running backend, and that says which model id each
 * service answers to (the on-chain offer's modelHash, and what a workflow step's `model` must equal).
 */
import type { Hex } from "viem";

import type { ServiceConfig } from "../config.js";
import { createDataBackend, DATA_MODEL } from "./data.js";
import { createIrisBackend, irisModel } from "./iris.js";
import { createOpenAiBackend, upstreamModelHash } from "./openai.js";
import type { Backend, SharedResources } from "./types.js";

export { SharedResources } from "./types.js";
export type { Backend, BackendKind, RunContext, StepProof } from "./types.js";

/**
 * iris: Poseidon commitment to the committed weights (as bytes32); data: DATA_MODEL; openai: keccak256 of the
 * upstream model name.
 */
export function serviceModelHash(service: Pick<ServiceConfig, "backend" | "upstream">): Hex {
  switch (service.backend) {
    case "iris":
      return irisModel().hash;
    case "data":
      return DATA_MODEL;
    case "openai":
      if (service.upstream === undefined) throw new Error('backend "openai": upstream is required');
      return upstreamModelHash(service.upstream.model);
  }
}

/** Builds the backend of `service` (a checked config entry); `env` supplies upstream API keys. */
export function createBackend(
  service: ServiceConfig,
  shared: SharedResources,
  env: NodeJS.ProcessEnv = process.env,
): Backend {
  switch (service.backend) {
    case "iris":
      return createIrisBackend(service, shared);
    case "data":
      return createDataBackend(service);
    case "openai":
      if (service.upstream === undefined) throw new Error(`services: ${service.name}: upstream is required`);
      return createOpenAiBackend(service, service.upstream, env);
  }
}
