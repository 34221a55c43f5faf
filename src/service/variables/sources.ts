import { randomUUID } from 'node:crypto';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { DEFAULT_REGION } from '../normalize-service.js';
import { fileSource } from './file-source.js';
import type { SourceCall, VariableSource } from './resolver.js';
import { VariableSourceError } from './source-error.js';

export interface SourceInputs {
  serviceDir: string;
  options: Record<string, string | boolean | undefined>;
  params: Record<string, string>;
  env: Record<string, string | undefined>;
  /** Fixed for one load, so every `${sls:instanceId}` agrees. */
  instanceId?: string;
  /**
   * `resources.Outputs` of the deployed stage whose stack name (`<service>-<stage>`, as the
   * Framework names CloudFormation stacks) is `stack`, on the platform of `region`; undefined
   * when none is deployed. Absent: `${cf:...}` is refused (commands that reach no platform).
   */
  stackOutputs?: (stack: string, region: string) => Promise<Record<string, string> | undefined>;
}

/** Sources that need AWS; Nimbus has no AWS account to ask. */
const UNSUPPORTED: Record<string, string> = {
  s3: 'Nimbus has no S3 to read from',
  ssm: 'Nimbus has no SSM Parameter Store to read from',
};

export function createSources(inputs: SourceInputs): Record<string, VariableSource> {
  const instanceId = inputs.instanceId ?? randomUUID();
  const stage = async (self: SourceCall['self']): Promise<string> =>
    String(inputs.options.stage ?? (await self(['provider', 'stage'])) ?? 'dev');

  const sources: Record<string, VariableSource> = {
    self: ({ address, self }) => self(address ? address.split('.') : []),
    opt: ({ address }) => (address ? inputs.options[address] : definedOnly(inputs.options)),
    env: ({ address }) => {
      if (!address) throw new VariableSourceError('the "env" source needs a variable name');
      return inputs.env[address];
    },
    file: fileSource(inputs.serviceDir),
    sls: async ({ address, self }) => {
      if (address === 'stage') return stage(self);
      if (address === 'instanceId') return instanceId;
      throw new VariableSourceError(`unknown "sls" address "${address ?? ''}"`);
    },
    param: async ({ address, self }) => {
      if (!address) throw new VariableSourceError('the "param" source needs a parameter name');
      if (inputs.params[address] !== undefined) return inputs.params[address];
      const fromStage = await self(['params', await stage(self), address]);
      return fromStage ?? self(['params', 'default', address]);
    },
    strToBool: ({ params }) => strToBool(params[0]),
    // The outputs of another Nimbus service stage, as `${cf:stack.Output}` reads a stack's.
    cf: async ({ address, params, self }) => {
      const dot = address?.indexOf('.') ?? -1;
      if (!address || dot <= 0 || dot === address.length - 1) {
        throw new VariableSourceError('the "cf" source needs "<service>-<stage>.<output name>"');
      }
      if (!inputs.stackOutputs) {
        throw new VariableSourceError(
          'this command reaches no Nimbus platform to read stage outputs from',
        );
      }
      const region = String(
        params[0] ??
          inputs.options.region ??
          (await self(['provider', 'region'])) ??
          DEFAULT_REGION,
      );
      const stack = address.slice(0, dot);
      const outputs = await inputs.stackOutputs(stack, region);
      if (outputs === undefined) {
        throw new VariableSourceError(
          `no deployed service stage is named "${stack}" (a stack is "<service>-<stage>")`,
        );
      }
      return outputs[address.slice(dot + 1)];
    },
    // The region is the name of the Nimbus endpoint the stage deploys to, as deploy uses it.
    aws: async ({ address, self }) => {
      if (address === 'accountId') return NIMBUS_ACCOUNT_ID;
      if (address === 'region') {
        return String(
          inputs.options.region ?? (await self(['provider', 'region'])) ?? DEFAULT_REGION,
        );
      }
      throw new VariableSourceError(
        `unknown "aws" address "${address ?? ''}" (Nimbus knows aws:accountId and aws:region)`,
      );
    },
  };
  for (const [type, why] of Object.entries(UNSUPPORTED)) {
    sources[type] = () => {
      throw new VariableSourceError(
        `the "${type}" variable source is not supported by Nimbus: ${why}`,
      );
    };
  }
  return sources;
}

function strToBool(input: unknown): boolean {
  if (typeof input === 'boolean') return input;
  const text = String(input ?? '').trim();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new VariableSourceError(`strToBool expects "true", "false", "1" or "0", got "${text}"`);
}

function definedOnly(options: SourceInputs['options']): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out;
}
