import { describe, expect, it } from 'vitest';

import { candidatesInSdp, iceUsernameFragment, IceGatheringPolicy } from '../../src/renderer/sip/ice-gathering';

const bounds = { maxMs: 500, reflexiveWaitMs: 20, settleMs: 5 };
const hostUdp = { type: 'host', protocol: 'udp' };

describe('IceGatheringPolicy', () => {
  it('waits up to the cap while no UDP candidate has come', () => {
    const policy = new IceGatheringPolicy(bounds, false, 1000);
    policy.add({ type: 'host', protocol: 'tcp' }, 1003);

    expect(policy.doneAt()).toBe(1500);
  });

  it('settles after the last UDP candidate without ICE servers', () => {
    const policy = new IceGatheringPolicy(bounds, false, 1000);
    policy.add(hostUdp, 1002);
    policy.add(hostUdp, 1004);

    expect(policy.doneAt()).toBe(1009);
  });

  it('waits a bounded time for a server-reflexive candidate', () => {
    const policy = new IceGatheringPolicy(bounds, true, 1000);
    policy.add(hostUdp, 1003);

    expect(policy.doneAt()).toBe(1020);
  });

  it('stops waiting once a server-reflexive candidate arrives', () => {
    const policy = new IceGatheringPolicy(bounds, true, 1000);
    policy.add(hostUdp, 1003);
    policy.add({ type: 'srflx', protocol: 'udp' }, 1011);

    expect(policy.doneAt()).toBe(1016);
  });

  it('never goes past the cap', () => {
    const policy = new IceGatheringPolicy({ ...bounds, maxMs: 10 }, true, 1000);
    policy.add(hostUdp, 1008);

    expect(policy.doneAt()).toBe(1010);
  });
});

describe('SDP candidate helpers', () => {
  const sdp = [
    'v=0',
    'a=ice-ufrag:Ab3d',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=candidate:842163049 1 udp 2122260223 127.0.0.1 54321 typ host generation 0',
    'a=candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active',
    'a=candidate:2 1 UDP 1686052607 203.0.113.9 61000 typ srflx raddr 127.0.0.1 rport 54321',
    '',
  ].join('\r\n');

  it('reads candidate types and protocols', () => {
    expect(candidatesInSdp(sdp)).toEqual([
      { protocol: 'udp', type: 'host' },
      { protocol: 'tcp', type: 'host' },
      { protocol: 'UDP', type: 'srflx' },
    ]);
  });

  it('reads the ICE ufrag', () => {
    expect(iceUsernameFragment(sdp)).toBe('Ab3d');
    expect(iceUsernameFragment('v=0\r\n')).toBeNull();
  });
});
