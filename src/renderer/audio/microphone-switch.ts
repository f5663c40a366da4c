/**
 * Replaces the microphone of a call without renegotiation: a new track from
 * getUserMedia goes to the audio sender with `RTCRtpSender.replaceTrack`
 * (W3C WebRTC 1.0), and the old track is stopped. The mute state
 * (`enabled`) moves to the new track. `localStream`, the stream sip.js keeps
 * for the call and stops when the call ends, gets the new track in place of the
 * old one. Returns the new track; on failure the call keeps its old track.
 */
export async function replaceMicrophoneTrack(
  peerConnection: RTCPeerConnection,
  localStream: MediaStream | null,
  constraints: MediaTrackConstraints,
  getUserMedia: (constraints: MediaStreamConstraints) => Promise<MediaStream> = (request) =>
    navigator.mediaDevices.getUserMedia(request),
): Promise<MediaStreamTrack> {
  const sender = audioSender(peerConnection);
  if (!sender) throw new Error('The call has no audio sender, so its microphone cannot be changed.');

  const stream = await getUserMedia({ audio: constraints, video: false });
  const track = stream.getAudioTracks()[0];
  if (!track) throw new Error('The microphone returned no audio track.');

  const oldTrack = sender.track;
  track.enabled = oldTrack?.enabled ?? true;

  try {
    await sender.replaceTrack(track);
  } catch (error) {
    track.stop();
    throw error;
  }

  if (localStream) {
    if (oldTrack) localStream.removeTrack(oldTrack);
    localStream.addTrack(track);
  }
  oldTrack?.stop();
  return track;
}

/** Finds the sender of the call's audio, also when its track was replaced by none. */
function audioSender(peerConnection: RTCPeerConnection): RTCRtpSender | undefined {
  const withTrack = peerConnection.getSenders().find((sender) => sender.track?.kind === 'audio');
  if (withTrack) return withTrack;

  return peerConnection
    .getTransceivers()
    .find((transceiver) => transceiver.receiver.track.kind === 'audio' && transceiver.currentDirection !== 'stopped')?.sender;
}
