namespace Portal.Media.Rtsp;

/// <summary>The camera refused a request or broke the protocol; <see cref="StatusCode"/> is set when it answered.</summary>
public class RtspException : Exception
{
    public RtspException()
    {
    }

    public RtspException(string message)
        : base(message)
    {
    }

    public RtspException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RtspException(string message, int statusCode)
        : base(message) => StatusCode = statusCode;

    public int? StatusCode { get; }
}

/// <summary>The camera answered 401 to our credentials (or we had none): a configuration problem, not a network one.</summary>
public sealed class RtspAuthenticationException : RtspException
{
    public RtspAuthenticationException()
    {
    }

    public RtspAuthenticationException(string message)
        : base(message, 401)
    {
    }

    public RtspAuthenticationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
