namespace Portal;

/// <summary>Anchor type for the UI strings in Resources/SharedResource(.en).resx: Chinese is the neutral culture.</summary>
#pragma warning disable CA1812 // Never instantiated: IStringLocalizer<T> only reads its name.
internal sealed class SharedResource;
#pragma warning restore CA1812
