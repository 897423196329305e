/**
 * Every way to cut a byte stream into chunks, for parsers fed "split at every offset" (house
 * style §11, after go-smtp's parser tests): a parser that keeps its state across chunks must give
 * the same result however the input arrives. A test kit: kept out of dist/ (tsconfig.build.json),
 * and beside the sources because the unit tests may import only from src/ (tsconfig `rootDir`).
 */

/**
 * The chunkings of `bytes`: every cut in two (`[0, i)` and `[i, end)`, for i = 0..length, so
 * empty chunks included), with `ways: 3` every cut in three as well (quadratic: keep such inputs
 * short), and last one octet per chunk.
 */
export function splits(bytes: Buffer, ways: 2 | 3 = 2): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i++) {
    if (ways === 2) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
    else for (let j = i; j <= bytes.length; j++) out.push([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
  }
  out.push([...bytes].map((b) => Buffer.from([b])));
  return out;
}
