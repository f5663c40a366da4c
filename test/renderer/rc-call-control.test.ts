// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';

import {
  buildClientCommand,
  buildInfoRequest,
  buildRcMessage,
  commandOf,
  describeInfoResult,
  InvalidRcMessageError,
  isForClient,
  parseInfoResponse,
  parseRcMessage,
  rcCaller,
  RcCommand,
} from '../../src/renderer/sip/rc-call-control';

const INVITE_P_RC =
  '<Msg><Hdr SID="35399165213232" Req="{2D1B5A4F-0C5E}" From="#1132@sip.ringcentral.com:5060" To="16505550101" Cmd="6"/>' +
  '<Bdy SrvLvl="-149699523" Phn="+16505550177" Nm="ACME &amp; SONS" ToPhn="+16505550101" ToNm="Alice"/></Msg>';

describe('parseRcMessage', () => {
  it('reads header and body attributes', () => {
    const message = parseRcMessage(INVITE_P_RC);

    expect(message.header).toEqual({
      SID: '35399165213232',
      Req: '{2D1B5A4F-0C5E}',
      From: '#1132@sip.ringcentral.com:5060',
      To: '16505550101',
      Cmd: '6',
    });
    expect(message.body.Nm).toBe('ACME & SONS');
    expect(commandOf(message)).toBe(6);
  });

  it('ignores a leading header name', () => {
    expect(parseRcMessage(`P-rc: ${INVITE_P_RC}`).header.SID).toBe('35399165213232');
  });

  it('rejects text that is not XML', () => {
    expect(() => parseRcMessage('<Msg><Hdr SID="1"')).toThrow(InvalidRcMessageError);
  });

  it('rejects a header without SID', () => {
    expect(() => parseRcMessage('<Msg><Hdr Req="1" From="a" To="b" Cmd="6"/></Msg>')).toThrow(/no SID/);
  });

  it('rejects another root element', () => {
    expect(() => parseRcMessage('<Other><Hdr SID="1" Req="1" From="a" To="b" Cmd="6"/></Other>')).toThrow(/root element/);
  });
});

describe('rcCaller', () => {
  it('takes the name and number of the body', () => {
    expect(rcCaller(parseRcMessage(INVITE_P_RC))).toEqual({ name: 'ACME & SONS', number: '+16505550177' });
  });

  it('gives null for empty attributes', () => {
    const message = parseRcMessage('<Msg><Hdr SID="1" Req="2" From="a" To="b" Cmd="6"/><Bdy Phn="" Nm=" "/></Msg>');
    expect(rcCaller(message)).toEqual({ name: null, number: null });
  });
});

describe('buildClientCommand', () => {
  it('keeps SID and Req, swaps From and To and names the client', () => {
    const command = buildClientCommand(parseRcMessage(INVITE_P_RC), RcCommand.ToVoicemail, '802512345678');

    expect(command).toEqual({
      header: {
        SID: '35399165213232',
        Req: '{2D1B5A4F-0C5E}',
        From: '16505550101',
        To: '#1132@sip.ringcentral.com:5060',
        Cmd: '11',
      },
      body: { Cln: '802512345678' },
    });
  });

  it('serializes so that the server parses the same values back', () => {
    const command = buildClientCommand(parseRcMessage(INVITE_P_RC), RcCommand.Reject, '80"25<&>');
    const xml = buildRcMessage(command);

    expect(xml.startsWith('<Msg><Hdr SID="35399165213232" ')).toBe(true);
    expect(parseRcMessage(xml)).toEqual(command);
  });
});

describe('isForClient', () => {
  const withClient = (client: string | null) =>
    parseRcMessage(
      `<Msg><Hdr SID="1" Req="2" From="a" To="b" Cmd="7"/><Bdy${client === null ? '' : ` Cln="${client}"`}/></Msg>`,
    );

  it('accepts this client', () => {
    expect(isForClient(withClient('802512345678'), '802512345678')).toBe(true);
  });

  it('ignores another instance', () => {
    expect(isForClient(withClient('802599999999'), '802512345678')).toBe(false);
  });

  it('accepts a message that names no client', () => {
    expect(isForClient(withClient(null), '802512345678')).toBe(true);
  });
});

describe('in-call INFO commands', () => {
  it('builds the request body', () => {
    expect(JSON.parse(buildInfoRequest(4, 'callflip', { target: '2' }))).toEqual({
      request: { reqid: 4, command: 'callflip', target: '2' },
    });
  });

  it('parses a result with a string reqid', () => {
    const result = parseInfoResponse(
      '{"response":{"reqid":"7","command":"callpark","result":{"code":0,"description":"OK","park extension":"*801"}}}',
    );

    expect(result).toMatchObject({ reqid: '7', command: 'callpark', code: 0, description: 'OK' });
    expect(describeInfoResult(result!)).toBe('Parked at *801.');
  });

  it('returns null for other INFO bodies', () => {
    expect(parseInfoResponse('Signal=5\r\nDuration=160')).toBeNull();
    expect(parseInfoResponse('{"request":{"reqid":1,"command":"move"}}')).toBeNull();
  });

  it('describes each command and a failure', () => {
    const describe = (command: string, result: Record<string, unknown>) =>
      describeInfoResult(parseInfoResponse(JSON.stringify({ response: { reqid: 1, command, result } }))!);

    expect(describe('callflip', { code: 0, number: '+16505550188' })).toBe('Flipped to +16505550188.');
    expect(describe('startcallrecord', { code: 0 })).toBe('Recording.');
    expect(describe('stopcallrecord', { code: '0' })).toBe('Recording stopped.');
    expect(describe('startcallrecord', { code: 2, description: 'Recording is not allowed' })).toBe(
      'Start recording failed: Recording is not allowed.',
    );
    expect(describe('callpark', { code: 5 })).toBe('Park failed: code 5.');
  });
});

describe('INFO results from an odd server', () => {
  it.each(['', ' ', 'abc', '1.5'])('ignores a result code of %j', (code) => {
    const body = JSON.stringify({ response: { reqid: 1, command: 'callpark', result: { code } } });

    expect(parseInfoResponse(body)).toBeNull();
  });

  it('names an unknown command literally', () => {
    const body = JSON.stringify({ response: { reqid: 1, command: 'constructor', result: { code: 5 } } });
    const result = parseInfoResponse(body);

    expect(result).not.toBeNull();
    expect(describeInfoResult(result!)).toBe('constructor failed: code 5.');
  });
});
