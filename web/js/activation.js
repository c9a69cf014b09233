// The activations (as the server applies them, in double precision here) and how to write them.

export const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'leaky_relu']; // the assignment's order
export const ACT_NAMES = { identity: 'identity', relu: 'ReLU', sigmoid: 'sigmoid', tanh: 'tanh', leaky_relu: 'leaky ReLU' };

export function activate(name, z, slope = 0.01) {
  switch (name) {
    case 'relu': return z > 0 ? z : 0;
    case 'leaky_relu': return z > 0 ? z : slope * z;
    case 'sigmoid': return 1 / (1 + Math.exp(-z));
    case 'tanh': return Math.tanh(z);
    default: return z;
  }
}

// "ReLU(z) = max(0, z)" with the numbers: e.g. "ReLU(−0.24) = max(0, −0.24) = 0".
export function writeActivation(name, z, slope, f) {
  const y = activate(name, z, slope);
  switch (name) {
    case 'relu': return `ReLU(${f(z)}) = max(0, ${f(z)}) = ${f(y)}`;
    case 'leaky_relu': return z > 0
      ? `leaky ReLU(${f(z)}) = ${f(z)} (positive: unchanged)`
      : `leaky ReLU(${f(z)}) = ${slope} × ${f(z)} = ${f(y)}`;
    case 'sigmoid': return `sigmoid(${f(z)}) = 1 / (1 + e^(−${f(z)})) = ${f(y)}`;
    case 'tanh': return `tanh(${f(z)}) = ${f(y)}`;
    default: return `no activation (identity): ${f(y)}`;
  }
}
