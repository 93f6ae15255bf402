import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { required } from "../../lib/args.js";
import { readWorkflowSpec } from "../../../protocol/workflow-spec.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  file: string;
}

/** Defines a workflow from a JSON specification (see protocol/workflow-spec.ts for the format). */
export default async function define(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ protocol }) => {
    const spec = readWorkflowSpec(required("file", args.file));
    const { workflows } = protocol;
    const receipt = await confirm("defineWorkflow", workflows.defineWorkflow(spec));
    const event = receipt.logs
      .map((log) => workflows.interface.parseLog(log))
      .find((parsed) => parsed?.name === "WorkflowDefined");
    const workflowId = event?.args[0] as bigint | undefined;
    if (workflowId === undefined) throw new Error("no WorkflowDefined event");
    const wf = await workflows.getWorkflow(workflowId);
    console.log(`workflow #${workflowId} "${spec.name}": ${wf.stepCount} steps, spec hash ${wf.specHash}`);
    return workflowId;
  });
}
