import type { BenchLine, SoftphoneBench } from './softphone-bench';
import { startSoftphoneInstance, type SoftphoneInstance } from './softphone-instance';
import { signInAndRegister } from './softphone-ui';

/**
 * Starts one softphone per line, named after the line's first name in lower
 * case, signs each in with its line and waits until every one is registered.
 * `beforeSignIn` runs once the pages are loaded and before the SIP WebSockets
 * open, for example to record SIP frames.
 */
export async function startRegisteredPhones<Lines extends BenchLine[]>(
  bench: SoftphoneBench,
  lines: [...Lines],
  beforeSignIn?: (phones: SoftphoneInstance[]) => void,
): Promise<{ [Index in keyof Lines]: SoftphoneInstance }> {
  const phones = await Promise.all(
    lines.map((line) => startSoftphoneInstance({ name: line.name.split(' ')[0]!.toLowerCase(), rendererUrl: bench.renderer.url })),
  );
  beforeSignIn?.(phones);
  await signInAndRegister(
    bench.platform.url,
    phones.map((phone, index) => ({ page: phone.page, line: lines[index]! })),
  );
  return phones as { [Index in keyof Lines]: SoftphoneInstance };
}
