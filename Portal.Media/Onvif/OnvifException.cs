namespace Portal.Media.Onvif;

/// <summary>An ONVIF call failed: the device answered a SOAP fault, an HTTP error, or something unreadable.</summary>
public class OnvifException : Exception
{
    public OnvifException()
    {
    }

    public OnvifException(string message)
        : base(message)
    {
    }

    public OnvifException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public OnvifException(string message, int? httpStatus, string? faultCode, string? faultSubcode)
        : base(message)
    {
        HttpStatus = httpStatus;
        FaultCode = faultCode;
        FaultSubcode = faultSubcode;
    }

    public int? HttpStatus { get; }

    /// <summary>The SOAP 1.2 fault code, e.g. <c>env:Sender</c>.</summary>
    public string? FaultCode { get; }

    /// <summary>The most specific subcode, e.g. <c>ter:NotAuthorized</c> or <c>ter:ActionNotSupported</c>.</summary>
    public string? FaultSubcode { get; }
}

/// <summary>The device refused our credentials (HTTP 401, or a <c>ter:NotAuthorized</c> fault): check user, password and clock.</summary>
public sealed class OnvifAuthenticationException : OnvifException
{
    public OnvifAuthenticationException()
    {
    }

    public OnvifAuthenticationException(string message)
        : base(message)
    {
    }

    public OnvifAuthenticationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public OnvifAuthenticationException(string message, int? httpStatus, string? faultCode, string? faultSubcode)
        : base(message, httpStatus, faultCode, faultSubcode)
    {
    }
}
