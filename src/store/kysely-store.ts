import type { Kysely } from 'kysely';
import * as deployments from './deployment-queries.js';
import { translateConstraintError } from './errors.js';
import * as functions from './function-queries.js';
import * as layers from './layer-queries.js';
import type { Database } from './schema.js';
import * as stages from './stage-queries.js';
import type { Store, StoreWriter } from './store.js';
import * as versions from './version-queries.js';

/**
 * The Store on any Kysely dialect: the queries are written once and run on SQLite and PostgreSQL
 * alike. The adapter owns `db` and destroys it on close().
 */
export class KyselyStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #root: StoreWriter;
  #closing: Promise<void> | undefined;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#root = bindQueries(db);
  }

  findStage: Store['findStage'] = (service, stage) => this.#root.findStage(service, stage);
  listStages: Store['listStages'] = () => this.#root.listStages();
  listDeployments: Store['listDeployments'] = (stageId) => this.#root.listDeployments(stageId);
  listFunctions: Store['listFunctions'] = (stageId) => this.#root.listFunctions(stageId);
  findFunctionByName: Store['findFunctionByName'] = (name) => this.#root.findFunctionByName(name);
  listVersions: Store['listVersions'] = (functionId) => this.#root.listVersions(functionId);
  getVersion: Store['getVersion'] = (functionId, version) =>
    this.#root.getVersion(functionId, version);
  listAliases: Store['listAliases'] = (functionId) => this.#root.listAliases(functionId);
  listLayerVersions: Store['listLayerVersions'] = (name) => this.#root.listLayerVersions(name);
  getLayerVersion: Store['getLayerVersion'] = (name, version) =>
    this.#root.getLayerVersion(name, version);

  /** fn's writes commit together when it resolves and roll back when it throws. */
  transaction<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => fn(bindQueries(trx)));
  }

  /** Idempotent: a second close() waits for the first. */
  close(): Promise<void> {
    this.#closing ??= this.#db.destroy();
    return this.#closing;
  }
}

/** Every Store query bound to one connection: the root database or an open transaction. */
function bindQueries(db: Kysely<Database>): StoreWriter {
  return {
    findStage: (service, stage) => stages.findStage(db, service, stage),
    listStages: () => stages.listStages(db),
    listDeployments: (stageId) => deployments.listDeployments(db, stageId),
    listFunctions: (stageId) => functions.listFunctions(db, stageId),
    findFunctionByName: (name) => functions.findFunctionByName(db, name),
    listVersions: (functionId) => versions.listVersions(db, functionId),
    getVersion: (functionId, version) => versions.getVersion(db, functionId, version),
    listAliases: (functionId) => versions.listAliases(db, functionId),
    listLayerVersions: (name) => layers.listLayerVersions(db, name),
    getLayerVersion: (name, version) => layers.getLayerVersion(db, name, version),
    insertLayerVersion: (row) => translated(layers.insertLayerVersion(db, row)),
    deleteLayerVersion: (name, version) => layers.deleteLayerVersion(db, name, version),

    upsertStage: (input) => translated(stages.upsertStage(db, input)),
    insertFunction: (input) => translated(functions.insertFunction(db, input)),
    insertVersion: (row) => translated(versions.insertVersion(db, row)),
    setAlias: (row) => translated(versions.setAlias(db, row)),
    deleteAlias: (functionId, name) => versions.deleteAlias(db, functionId, name),
    deleteVersion: (functionId, version) => versions.deleteVersion(db, functionId, version),
    insertDeployment: (row) => translated(deployments.insertDeployment(db, row)),
    deleteDeployments: (ids) => deployments.deleteDeployments(db, ids),
    deleteFunction: (functionId) => functions.deleteFunction(db, functionId),
    deleteStage: (stageId) => stages.deleteStage(db, stageId),
  };
}

async function translated<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (err) {
    throw translateConstraintError(err);
  }
}
