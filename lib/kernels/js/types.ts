/**
 * JS twins take Float32Array (what the backends pass) or Float64Array (what gradient checks
 * pass, so finite differences run in double precision through the very same code).
 */
export type FloatArray = Float32Array | Float64Array;
