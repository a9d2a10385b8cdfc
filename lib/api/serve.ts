/** deepgen/serve: the sampling server (HTTP, dynamic batching) and its Fastify plugin. */
export { createServer, type CreateServerOptions, type DeepgenServer } from "../serve/server.js";
export { deepgenPlugin, type DeepgenPluginOptions } from "../serve/plugin.js";
export type { ServeOptions } from "../serve/options.js";
export type { ModelSource, ServableModel, LoadReport } from "../serve/models.js";
export { ServeState } from "../serve/state.js";
