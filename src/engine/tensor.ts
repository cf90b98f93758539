/**
 * Tensors and the reverse-mode tape.
 *
 * A Tensor is a shape plus contiguous row-major float32 storage in the engine's memory (./storage.ts). Every op
 * output owns its storage (movement ops copy), so disposing one tensor never invalidates another.
 *
 * Autograd (micrograd's design at tensor granularity): an op whose inputs need gradients records a GraphNode on its
 * output with the inputs and a backward closure that accumulates (+=) into the inputs' gradients. `backward()`
 * sorts the graph topologically and runs the closures in reverse, seeding the root with ones. Gradients of
 * intermediate tensors are freed as soon as their node has run; leaves (Parameters and tensors created with
 * requiresGrad) keep theirs in `.grad` and accumulate across calls until zeroed.
 *
 * Memory: tensors created inside `tidy(fn)` are disposed when fn returns, except tensors in its return value
 * (moved to the enclosing scope) and Parameters. A training step wrapped in `tidy` therefore frees its activations,
 * saved buffers and gradients, and the allocator reuses the same blocks on the next step.
 */
import { allocStorage, allocStorageUninitialized, freeStorage } from "./storage.js";

export type Shape = readonly number[];

/** What backward needs from one op application. */
export interface GraphNode {
  /** Op name, for error messages and debugging. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Accumulates the inputs' gradients given the output's gradient (`inputGrad(t)` allocates them on demand). */
  readonly backward: (outGrad: Float32Array) => void;
  /** Buffers the backward pass needs (freed with the output tensor). */
  readonly saved: readonly Float32Array[];
}

let gradEnabled = true;
let nextId = 1;
const scopes: Tensor[][] = [];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: shape ${formatShape(shape)} must hold integers >= 0, found ${d}`);
    }
  }
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** Gradient of the last backward() root w.r.t. this tensor (leaves only, and intermediates while backward runs). */
  grad: Float32Array | null = null;
  /** Set by the op that produced this tensor when any input needs a gradient. */
  node: GraphNode | null = null;
  private storage: Float32Array | null;

  /**
   * Wraps storage from `allocStorage` (owned from now on). Most code uses the creation functions (`tensor`,
   * `zeros`, ...) or ops instead.
   */
  constructor(
    storage: Float32Array,
    shape: Shape,
    public requiresGrad = false,
  ) {
    checkShape("Tensor", shape);
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    if (storage.length !== this.size) {
      throw new RangeError(
        `Tensor: storage has ${storage.length} elements, shape ${formatShape(shape)} needs ${this.size}`,
      );
    }
    this.storage = storage;
    if (!(this instanceof Parameter) && scopes.length > 0) scopes[scopes.length - 1].push(this);
  }

  /** The values, row-major. Throws after dispose(). */
  get data(): Float32Array {
    if (!this.storage)
      throw new Error(`Tensor ${this.id} ${formatShape(this.shape)} was disposed; it cannot be read`);
    return this.storage;
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new RangeError(`item: tensor has shape ${formatShape(this.shape)}, not one element`);
    return this.data[0];
  }

  /** A plain copy of the values. */
  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Frees storage, gradient and saved buffers. Idempotent. */
  dispose(): void {
    if (this.storage) freeStorage(this.storage);
    this.storage = null;
    if (this.grad) freeStorage(this.grad);
    this.grad = null;
    if (this.node) for (const buffer of this.node.saved) freeStorage(buffer);
    this.node = null;
  }

  /** Backpropagates from this tensor (which must have one element unless `seed` is given). */
  backward(seed?: Float32Array): void {
    backward(this, seed);
  }
}

/** A trainable leaf: requiresGrad, never disposed by `tidy`, gradient kept and accumulated until zeroed. */
export class Parameter extends Tensor {
  constructor(
    storage: Float32Array,
    shape: Shape,
    readonly name = "",
  ) {
    super(storage, shape, true);
  }

  /** Zeroes the accumulated gradient (if any). */
  zeroGrad(): void {
    this.grad?.fill(0);
  }
}

/** Whether ops record graph nodes now (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording the graph: outputs have no node and requiresGrad false. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}

/**
 * Runs fn and then disposes every non-Parameter tensor created during it, except those reachable from its
 * return value (a tensor, or arrays/plain objects holding tensors), which move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const created: Tensor[] = [];
  scopes.push(created);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    for (const t of created) t.dispose(); // nothing escapes a failed scope
    throw error;
  } finally {
    scopes.pop();
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of created) {
    if (kept.has(t)) parent?.push(t);
    else t.dispose();
  }
  return result;
}

/**
 * Records `node` on `out` when grad mode is on and any input requires a gradient; returns out.
 * `saved` buffers are owned by the node (freed with `out`), or freed at once when no node is recorded.
 */
export function record(
  out: Tensor,
  op: string,
  inputs: readonly Tensor[],
  backward: (outGrad: Float32Array) => void,
  saved: readonly Float32Array[] = [],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward, saved };
  } else {
    for (const buffer of saved) freeStorage(buffer);
  }
  return out;
}

/** t's gradient buffer, allocated (zero-filled) on first use; backward closures accumulate into it. */
export function inputGrad(t: Tensor): Float32Array {
  if (!t.grad) t.grad = allocStorage(t.size);
  return t.grad;
}

/** t's gradient buffer if t needs one, else null (kernels skip null gradients). */
export function gradOrNull(t: Tensor): Float32Array | null {
  return t.requiresGrad ? inputGrad(t) : null;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<number>();
  // Iterative DFS (deep graphs would overflow the call stack): post-order via an explicit stack.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root.id);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node ? t.node.inputs : [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !visited.has(child.id)) {
        visited.add(child.id);
        stack.push([child, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order;
}

/**
 * Reverse-mode sweep from root. The seed defaults to 1 for a one-element root. Intermediate gradients are freed
 * after use; leaf gradients accumulate.
 */
export function backward(root: Tensor, seed?: Float32Array): void {
  if (!root.requiresGrad) {
    throw new Error(
      "backward: this tensor does not require a gradient (no input of the ops that made it requires one, " +
        "or it was computed inside noGrad)",
    );
  }
  if (!seed && root.size !== 1) {
    throw new RangeError(
      `backward: the root has shape ${formatShape(root.shape)}; pass a seed gradient or reduce it to one element`,
    );
  }
  if (seed && seed.length !== root.size) {
    throw new RangeError(
      `backward: seed has ${seed.length} elements, root ${formatShape(root.shape)} has ${root.size}`,
    );
  }
  const order = topologicalOrder(root);
  const rootGrad = inputGrad(root);
  if (seed) for (let i = 0; i < seed.length; i++) rootGrad[i] += seed[i];
  else rootGrad[0] += 1;
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const node = t.node;
    if (!node) continue; // a leaf: keep its gradient
    if (t.grad) node.backward(t.grad);
    if (t.grad) freeStorage(t.grad);
    t.grad = null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Creation
// ---------------------------------------------------------------------------------------------------------------

/** A tensor holding a copy of `values` with the given shape (default: 1-D). */
export function tensor(
  values: ArrayLike<number>,
  shape: Shape = [values.length],
  requiresGrad = false,
): Tensor {
  checkShape("tensor", shape);
  if (shapeSize(shape) !== values.length) {
    throw new RangeError(
      `tensor: ${values.length} values do not fill shape ${formatShape(shape)} (${shapeSize(shape)})`,
    );
  }
  const storage = allocStorage(values.length);
  for (let i = 0; i < values.length; i++) storage[i] = values[i];
  return new Tensor(storage, shape, requiresGrad);
}

/** A one-element tensor of shape [] (a scalar). */
export function scalar(value: number): Tensor {
  return tensor([value], []);
}

export function full(shape: Shape, value: number, requiresGrad = false): Tensor {
  checkShape("full", shape);
  const storage = allocStorage(shapeSize(shape));
  if (value !== 0) storage.fill(value);
  return new Tensor(storage, shape, requiresGrad);
}

export function zeros(shape: Shape, requiresGrad = false): Tensor {
  return full(shape, 0, requiresGrad);
}

export function ones(shape: Shape, requiresGrad = false): Tensor {
  return full(shape, 1, requiresGrad);
}

/** A new tensor of the given shape wrapping freshly allocated (zeroed) storage; for ops. */
export function empty(shape: Shape): Tensor {
  return new Tensor(allocStorage(shapeSize(shape)), shape);
}

/**
 * A new tensor whose storage is NOT zeroed (it holds a reused block's old values): for op outputs that the kernel
 * overwrites completely. Ops whose kernels accumulate (+=) into the output use `empty`.
 */
export function uninitialized(shape: Shape): Tensor {
  return new Tensor(allocStorageUninitialized(shapeSize(shape)), shape);
}

/** A Parameter holding a copy of `values`. */
export function parameter(values: ArrayLike<number>, shape: Shape, name = ""): Parameter {
  checkShape("parameter", shape);
  if (shapeSize(shape) !== values.length) {
    throw new RangeError(
      `parameter ${name}: ${values.length} values do not fill shape ${formatShape(shape)}`,
    );
  }
  const storage = allocStorage(values.length);
  for (let i = 0; i < values.length; i++) storage[i] = values[i];
  return new Parameter(storage, shape, name);
}
