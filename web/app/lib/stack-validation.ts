// What the Stacks page shows of a validation (the API's POST /stacks/validate answer).

export interface StackFinding {
  path: string;
  message: string;
}

export interface PlannedServiceView {
  name: string;
  spec: {
    Mode?: { Replicated?: { Replicas?: number }; Global?: object; ReplicatedJob?: object; GlobalJob?: object };
    TaskTemplate?: { ContainerSpec?: { Image?: string }; Networks?: Array<{ Target: string }> };
    EndpointSpec?: { Ports?: Array<{ PublishedPort?: number; TargetPort: number; Protocol?: string; PublishMode?: string }> };
  };
}

export interface StackValidation {
  valid: boolean;
  errors: StackFinding[];
  warnings: StackFinding[];
  plan?: { services: PlannedServiceView[] };
}

/** `KEY=value` lines (blank lines and # comments skipped) as a map; a line without = is ignored. */
export function parseVariables(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const at = trimmed.indexOf('=');
    if (at > 0) variables[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1);
  }
  return variables;
}
