/** Agents in process on a devnet (scripts/lib/agent-run.ts, shared with the agents' bench). */
export * from "../../scripts/lib/agent-run.js";
