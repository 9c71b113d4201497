using System.Buffers.Binary;

namespace Portal.Media.Rtp;

/// <summary>Reassembles H.264 access units from RTP packets (RFC 6184, packetization-mode 0 and 1).</summary>
/// <remarks>
/// Payload structures handled (RFC 6184 §5.6–§5.8):
/// <code>
/// single NAL (types 1-23):  |NAL header| NAL payload ...|
/// STAP-A (24):              |hdr(24)| size(16) | NAL 1 | size(16) | NAL 2 | ...
/// FU-A (28):                |FU indicator: F NRI 28|FU header: S E R Type| fragment ...|
/// </code>
/// An access unit ends at the marker bit or when the timestamp changes (cameras that forget the marker).
/// After a sequence gap the unit in progress is dropped and output resumes at the next IDR, because a
/// browser decoder given a picture with missing references shows corruption until the next keyframe.
/// When parameter sets are known (from <c>sprop-parameter-sets</c> or seen in-band) and an IDR unit lacks
/// them, they are inserted before it: some cameras send SPS/PPS only in the SDP, and WebRTC needs them in-band.
/// </remarks>
public sealed class H264Depacketizer
{
    public const int DefaultMaxAccessUnitSize = 4 * 1024 * 1024;

    public const int MaxNalUnitsPerAccessUnit = 1024;

    private readonly Action<H264AccessUnit> _onAccessUnit;
    private readonly int _maxAccessUnitSize;
    private readonly bool _lendUnits;
    private readonly List<Range> _nals = [];
    private readonly List<ReadOnlyMemory<byte>> _lentNals = [];
    private readonly H264AccessUnit _lentUnit;
    private byte[] _buffer = new byte[64 * 1024];
    private int _length;
    private int _fuStart = -1;
    private uint _timestamp;
    private bool _hasTimestamp;
    private ushort _lastSequence;
    private bool _hasSequence;
    private bool _damaged;
    private bool _waitForKeyframe;
    private byte[]? _sps;
    private byte[]? _pps;

    /// <param name="onAccessUnit">Called with each complete access unit; the unit owns its memory unless <paramref name="lendUnits"/>.</param>
    /// <param name="spropParameterSets">The fmtp <c>sprop-parameter-sets</c> value, if the SDP had one.</param>
    /// <param name="startAtKeyframe">Drop units until the first IDR, so output always starts decodable.</param>
    /// <param name="maxAccessUnitSize">Largest unit accepted; bigger ones are dropped as malformed.</param>
    /// <param name="lendUnits">
    /// True hands out one reused unit whose NAL units point into the reassembly buffer: valid only during the
    /// callback, and nothing is allocated per unit. For forwarders that repacketize at once (the camera hub).
    /// </param>
    public H264Depacketizer(Action<H264AccessUnit> onAccessUnit, string? spropParameterSets = null, bool startAtKeyframe = true, int maxAccessUnitSize = DefaultMaxAccessUnitSize, bool lendUnits = false)
    {
        _onAccessUnit = onAccessUnit;
        _waitForKeyframe = startAtKeyframe;
        _maxAccessUnitSize = maxAccessUnitSize;
        _lendUnits = lendUnits;
        _lentUnit = new H264AccessUnit(0, _lentNals);
        foreach (var set in H264NalUnit.ParseSpropParameterSets(spropParameterSets))
        {
            Remember(set);
        }
    }

    /// <summary>Packets refused as malformed (bad aggregation sizes, FU without start, unsupported types).</summary>
    public long MalformedPackets { get; private set; }

    /// <summary>Access units dropped after loss, damage or while waiting for a keyframe.</summary>
    public long DroppedAccessUnits { get; private set; }

    /// <summary>The latest SPS known, from the SDP or in-band.</summary>
    public ReadOnlyMemory<byte> Sps => _sps;

    public ReadOnlyMemory<byte> Pps => _pps;

    /// <summary>Parses <paramref name="data"/> as RTP and pushes it; false when it is not RTP at all.</summary>
    public bool Push(ReadOnlySpan<byte> data)
    {
        if (!RtpPacket.TryParse(data, out var packet))
        {
            MalformedPackets++;
            return false;
        }

        Push(packet);
        return true;
    }

    public void Push(RtpPacket packet)
    {
        if (_hasSequence && packet.SequenceNumber != (ushort)(_lastSequence + 1))
        {
            // Loss or reordering: without a jitter buffer both mean a hole in the picture.
            _damaged = true;
            _fuStart = -1;
        }

        _hasSequence = true;
        _lastSequence = packet.SequenceNumber;

        if (_hasTimestamp && packet.Timestamp != _timestamp && (_nals.Count > 0 || _fuStart >= 0 || _damaged))
        {
            Flush();
        }

        _timestamp = packet.Timestamp;
        _hasTimestamp = true;

        if (!TryAppendPayload(packet.Payload))
        {
            MalformedPackets++;
            _damaged = true;
            _fuStart = -1;
        }

        if (packet.Marker)
        {
            Flush();
        }
    }

    private bool TryAppendPayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0)
        {
            return true; // keep-alive padding some cameras send; harmless
        }

        if ((payload[0] & 0x80) != 0)
        {
            return false; // forbidden_zero_bit (RFC 6184 §5.3)
        }

        var type = H264NalUnit.TypeOf(payload[0]);
        switch (type)
        {
            case >= 1 and <= 23:
                _fuStart = -1;
                return TryAddNal(payload);
            case H264NalUnit.StapA:
                _fuStart = -1;
                return TryAppendStapA(payload[1..]);
            case H264NalUnit.FuA:
                return TryAppendFuA(payload);
            default:
                return false; // STAP-B, MTAP, FU-B belong to interleaved mode 2, which we do not offer
        }
    }

    private bool TryAppendStapA(ReadOnlySpan<byte> data)
    {
        // Validate every size first so a bad aggregate adds nothing.
        var rest = data;
        if (rest.Length == 0)
        {
            return false;
        }

        while (rest.Length > 0)
        {
            if (rest.Length < 2)
            {
                return false;
            }

            var size = BinaryPrimitives.ReadUInt16BigEndian(rest);
            if (size == 0 || size > rest.Length - 2)
            {
                return false;
            }

            rest = rest[(2 + size)..];
        }

        while (data.Length > 0)
        {
            var size = BinaryPrimitives.ReadUInt16BigEndian(data);
            if (!TryAddNal(data.Slice(2, size)))
            {
                return false;
            }

            data = data[(2 + size)..];
        }

        return true;
    }

    private bool TryAppendFuA(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 3)
        {
            return false;
        }

        var fuHeader = payload[1];
        var start = (fuHeader & 0x80) != 0;
        var end = (fuHeader & 0x40) != 0;
        var fragment = payload[2..];
        if (start)
        {
            if (end)
            {
                return false; // RFC 6184 §5.8: S and E must not both be set
            }

            if (_fuStart >= 0)
            {
                _damaged = true; // previous fragmented NAL never ended
                _length = _fuStart;
            }

            if (!EnsureRoom(1 + fragment.Length) || _nals.Count >= MaxNalUnitsPerAccessUnit)
            {
                return false;
            }

            _fuStart = _length;
            _buffer[_length++] = (byte)((payload[0] & 0xE0) | (fuHeader & 0x1F));
            fragment.CopyTo(_buffer.AsSpan(_length));
            _length += fragment.Length;
            return true;
        }

        if (_fuStart < 0)
        {
            return _damaged; // continuation after a loss is expected noise, not malformed
        }

        if (!EnsureRoom(fragment.Length))
        {
            _length = _fuStart;
            _fuStart = -1;
            return false;
        }

        fragment.CopyTo(_buffer.AsSpan(_length));
        _length += fragment.Length;
        if (end)
        {
            RecordNal(_fuStart, _length);
            _fuStart = -1;
        }

        return true;
    }

    private bool TryAddNal(ReadOnlySpan<byte> nal)
    {
        if (_nals.Count >= MaxNalUnitsPerAccessUnit || !EnsureRoom(nal.Length))
        {
            return false;
        }

        nal.CopyTo(_buffer.AsSpan(_length));
        RecordNal(_length, _length + nal.Length);
        _length += nal.Length;
        return true;
    }

    private void RecordNal(int start, int end)
    {
        if ((_buffer[start] & 0x80) != 0)
        {
            _damaged = true;
            return;
        }

        _nals.Add(new Range(start, end));
    }

    private bool EnsureRoom(int count)
    {
        var needed = _length + count;
        if (needed > _maxAccessUnitSize)
        {
            return false;
        }

        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(_maxAccessUnitSize, Math.Max(needed, _buffer.Length * 2)));
        }

        return true;
    }

    private void Flush()
    {
        var damaged = _damaged || _fuStart >= 0;
        try
        {
            if (_nals.Count == 0)
            {
                if (damaged)
                {
                    DroppedAccessUnits++;
                    _waitForKeyframe = true;
                }

                return;
            }

            if (damaged)
            {
                DroppedAccessUnits++;
                _waitForKeyframe = true;
                return;
            }

            var nals = _lendUnits ? _lentNals : new List<ReadOnlyMemory<byte>>(_nals.Count + 2);
            nals.Clear();
            var hasIdr = false;
            var hasSps = false;
            var hasPps = false;
            foreach (var range in _nals)
            {
                var nal = _buffer.AsMemory(range);
                switch (H264NalUnit.TypeOf(nal.Span[0]))
                {
                    case H264NalUnit.IdrSlice: hasIdr = true; break;
                    case H264NalUnit.Sps: hasSps = true; Remember(nal.Span); break;
                    case H264NalUnit.Pps: hasPps = true; Remember(nal.Span); break;
                    case H264NalUnit.Filler: continue; // no meaning over RTP, only bytes
                }

                nals.Add(_lendUnits ? nal : nal.ToArray());
            }

            if (_waitForKeyframe && !hasIdr)
            {
                DroppedAccessUnits++;
                return;
            }

            if (hasIdr)
            {
                if (!hasPps && _pps is not null)
                {
                    nals.Insert(0, _pps);
                }

                if (!hasSps && _sps is not null)
                {
                    nals.Insert(0, _sps);
                }

                _waitForKeyframe = false;
            }

            if (_lendUnits)
            {
                _lentUnit.Timestamp = _timestamp;
                _onAccessUnit(_lentUnit);
            }
            else
            {
                _onAccessUnit(new H264AccessUnit(_timestamp, nals));
            }
        }
        finally
        {
            _nals.Clear();
            _length = 0;
            _fuStart = -1;
            _damaged = false;
        }
    }

    /// <summary>Keeps a parameter set; copied only when it changed, since cameras repeat them before every IDR.</summary>
    private void Remember(ReadOnlySpan<byte> nal)
    {
        if (nal.Length == 0)
        {
            return;
        }

        switch (H264NalUnit.TypeOf(nal[0]))
        {
            case H264NalUnit.Sps when !nal.SequenceEqual(_sps): _sps = nal.ToArray(); break;
            case H264NalUnit.Pps when !nal.SequenceEqual(_pps): _pps = nal.ToArray(); break;
        }
    }
}
