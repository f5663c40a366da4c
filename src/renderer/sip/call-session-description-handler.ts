import { Web, type Session, type SessionDescriptionHandlerFactory } from 'sip.js';

import {
  candidatesInSdp,
  DEFAULT_ICE_GATHERING_BOUNDS,
  iceUsernameFragment,
  IceGatheringPolicy,
  type IceGatheringBounds,
} from './ice-gathering';

type Logger = ConstructorParameters<typeof Web.SessionDescriptionHandler>[0];

/**
 * sip.js's WebRTC session description handler with two changes: ICE gathering
 * ends by IceGatheringPolicy instead of waiting for the browser to finish, and
 * a rejected re-INVITE rolls its offer back. Without the rollback (sip.js
 * 0.21.2 defines none for the web handler) the peer connection stays in
 * `have-local-offer` and every later re-INVITE of the call fails.
 */
export class CallSessionDescriptionHandler extends Web.SessionDescriptionHandler {
  readonly #bounds: IceGatheringBounds;
  #gatheredUsernameFragment: string | null = null;

  constructor(
    logger: Logger,
    mediaStreamFactory: Web.MediaStreamFactory,
    configuration: Web.SessionDescriptionHandlerConfiguration,
    bounds: IceGatheringBounds,
  ) {
    super(logger, mediaStreamFactory, configuration);
    this.#bounds = bounds;
  }

  /** Returns the peer connection to the last stable description (JSEP §4.1.10.2, rollback). */
  async rollbackDescription(): Promise<void> {
    const peerConnection = this.peerConnection;
    if (!peerConnection) return;

    if (peerConnection.signalingState === 'have-local-offer') {
      await peerConnection.setLocalDescription({ type: 'rollback' });
    } else if (peerConnection.signalingState === 'have-remote-offer') {
      await peerConnection.setRemoteDescription({ type: 'rollback' });
    }
  }

  protected override waitForIceGatheringComplete(restart = false, timeout = 0): Promise<void> {
    const peerConnection = this.peerConnection;
    if (!peerConnection) return Promise.reject(new Error('Peer connection closed.'));

    // An answer to a remote ICE restart also gathers anew, without `restart`:
    // a new ufrag in the local description shows it.
    const localSdp = peerConnection.localDescription?.sdp ?? '';
    const usernameFragment = iceUsernameFragment(localSdp);
    const newGeneration = restart || usernameFragment !== this.#gatheredUsernameFragment;
    this.#gatheredUsernameFragment = usernameFragment;

    if (!newGeneration && peerConnection.iceGatheringState === 'complete') return Promise.resolve();

    const bounds = timeout > 0 ? { ...this.#bounds, maxMs: Math.min(this.#bounds.maxMs, timeout) } : this.#bounds;
    return waitForGathering(peerConnection, bounds, localSdp);
  }
}

/** Resolves when IceGatheringPolicy lets the description go, or when gathering completes. */
function waitForGathering(
  peerConnection: RTCPeerConnection,
  bounds: IceGatheringBounds,
  localSdp: string,
): Promise<void> {
  const iceServers = peerConnection.getConfiguration().iceServers ?? [];
  const policy = new IceGatheringPolicy(bounds, iceServers.length > 0, performance.now());
  for (const candidate of candidatesInSdp(localSdp)) policy.add(candidate, performance.now());

  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;

    const finish = () => {
      clearTimeout(timer);
      peerConnection.removeEventListener('icecandidate', onCandidate);
      peerConnection.removeEventListener('icegatheringstatechange', onStateChange);
      resolve();
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, Math.max(0, policy.doneAt() - performance.now()));
    };
    const onCandidate = (event: RTCPeerConnectionIceEvent) => {
      if (!event.candidate) return finish();
      policy.add({ type: event.candidate.type, protocol: event.candidate.protocol }, performance.now());
      schedule();
    };
    const onStateChange = () => {
      if (peerConnection.iceGatheringState === 'complete') finish();
    };

    peerConnection.addEventListener('icecandidate', onCandidate);
    peerConnection.addEventListener('icegatheringstatechange', onStateChange);
    schedule();
  });
}

/**
 * Creates the factory sip.js calls for each call's media. The UserAgent's
 * `sessionDescriptionHandlerFactoryOptions` (ICE servers, gathering timeout)
 * reach it as `options`.
 */
export function createCallSessionDescriptionHandlerFactory(
  bounds: IceGatheringBounds = DEFAULT_ICE_GATHERING_BOUNDS,
  mediaStreamFactory: Web.MediaStreamFactory = Web.defaultMediaStreamFactory(),
): SessionDescriptionHandlerFactory {
  return (session: Session, options?: Web.SessionDescriptionHandlerFactoryOptions) => {
    const logger = session.userAgent.getLogger('sip.SessionDescriptionHandler');
    const configuration: Web.SessionDescriptionHandlerConfiguration = {
      iceGatheringTimeout: options?.iceGatheringTimeout ?? bounds.maxMs,
      peerConnectionConfiguration: {
        ...Web.defaultPeerConnectionConfiguration(),
        ...options?.peerConnectionConfiguration,
      },
    };
    return new CallSessionDescriptionHandler(logger, mediaStreamFactory, configuration, bounds);
  };
}
