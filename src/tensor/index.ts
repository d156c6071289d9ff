/** The compute core: tensors, autograd, ops, optimizers, backends. */
export * from "./attention.js";
export * from "./backend.js";
export { loadBlas } from "./blas.js";
export { gradCheck, randn } from "./gradcheck.js";
export { type Kernels, kernelsFor } from "./kernels.js";
export { memoryStats, persistent, scope } from "./memory.js";
export * from "./ops.js";
export * from "./optim.js";
export * from "./rng.js";
export * from "./tensor.js";
export { initCompute } from "./wasm/backend.js";
