/**
 * Read operations for Lambda features Nimbus has no setting for, answered with what Lambda
 * answers for a function that never set them, so tools that read them after every change
 * (Terraform's aws provider reads all three for aws_lambda_function) work unchanged:
 * GetFunctionCodeSigningConfig (none), GetRuntimeManagementConfig (`Auto`: Nimbus runs the
 * installed runtime) and GetFunctionRecursionConfig (`Terminate`).
 */
import type { Store } from '../../store/store.js';
import { parseFunctionAddress } from './function-name.js';
import { notFound, type OperationAnswer, type OperationRequest } from './function-operations.js';
import { arnOf } from './function-views.js';

const codeSigningPath = /^\/2020-06-30\/functions\/([^/]+)\/code-signing-config\/?$/;
const runtimeManagementPath = /^\/2021-07-20\/functions\/([^/]+)\/runtime-management-config\/?$/;
const recursionPath = /^\/2024-08-31\/functions\/([^/]+)\/recursion-config\/?$/;

export function createFixedSettingsOperations(deps: { store: Store }) {
  return async function operate(r: OperationRequest): Promise<OperationAnswer | undefined> {
    if (r.method !== 'GET') return undefined;
    const signing = codeSigningPath.exec(r.path);
    if (signing) {
      const name = await existing(r, signing[1]!);
      return { status: 200, body: { CodeSigningConfigArn: '', FunctionName: name } };
    }
    const runtime = runtimeManagementPath.exec(r.path);
    if (runtime) {
      await existing(r, runtime[1]!);
      return { status: 200, body: { UpdateRuntimeOn: 'Auto' } };
    }
    const recursion = recursionPath.exec(r.path);
    if (recursion) {
      await existing(r, recursion[1]!);
      return { status: 200, body: { RecursiveLoop: 'Terminate' } };
    }
    return undefined;
  };

  async function existing(r: OperationRequest, rawName: string): Promise<string> {
    const address = parseFunctionAddress(rawName, r.query.get('Qualifier'));
    if (!(await deps.store.findFunctionByName(address.name))) {
      const ctx = { fn: { id: 0, stageId: 0, key: '', name: address.name }, region: r.region };
      throw notFound(`Function not found: ${arnOf(ctx)}`);
    }
    return address.name;
  }
}
