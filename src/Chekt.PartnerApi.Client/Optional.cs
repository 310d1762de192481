using System.Diagnostics.CodeAnalysis;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// A value that is either absent or present (a present value may be <see langword="null"/>). Update
/// requests use it to tell the API's three cases apart: a property left at its default is
/// <b>absent</b> and is not sent, so the field stays unchanged; a property set to a value is sent;
/// a property set to <see langword="null"/> is sent as <c>null</c>, which clears an optional field.
/// </summary>
/// <typeparam name="T">The type of the value.</typeparam>
/// <example>
/// <code>
/// // Changes the phone number, clears the email, leaves the names as they are.
/// var update = new UpdateContactRequest { PhoneNumber = "+1 555 0100", Email = null };
/// </code>
/// </example>
public readonly struct Optional<T> : IEquatable<Optional<T>>
{
    private readonly T _value;

    /// <summary>Creates a present value (which may be <see langword="null"/>).</summary>
    /// <param name="value">The value.</param>
    public Optional(T value)
    {
        _value = value;
        HasValue = true;
    }

    /// <summary>The absent value: the property is not sent.</summary>
    public static Optional<T> Absent => default;

    /// <summary>Whether a value is present (and is sent).</summary>
    public bool HasValue { get; }

    /// <summary>The value.</summary>
    /// <exception cref="InvalidOperationException">The value is absent.</exception>
    public T Value => HasValue ? _value : throw new InvalidOperationException("The optional value is absent.");

    /// <summary>Makes a present value; this is what <c>Property = value</c> does.</summary>
    /// <param name="value">The value, possibly <see langword="null"/>.</param>
    public static implicit operator Optional<T>(T value) => new(value);

    /// <summary>Compares two optionals: equal when both are absent, or both present with equal values.</summary>
    public static bool operator ==(Optional<T> left, Optional<T> right) => left.Equals(right);

    /// <summary>Compares two optionals: the negation of <see cref="op_Equality"/>.</summary>
    public static bool operator !=(Optional<T> left, Optional<T> right) => !left.Equals(right);

    /// <summary>Makes a present value (the named alternative of the implicit conversion).</summary>
    /// <param name="value">The value, possibly <see langword="null"/>.</param>
    public static Optional<T> FromT(T value) => new(value);

    /// <summary>The value when present, else <paramref name="fallback"/>.</summary>
    /// <param name="fallback">What to return when the value is absent.</param>
    public T GetValueOrDefault(T fallback) => HasValue ? _value : fallback;

    /// <summary>The value when present.</summary>
    /// <param name="value">The value, when present.</param>
    public bool TryGetValue([MaybeNullWhen(false)] out T value)
    {
        value = _value;
        return HasValue;
    }

    /// <inheritdoc />
    public bool Equals(Optional<T> other) =>
        HasValue == other.HasValue && (!HasValue || EqualityComparer<T>.Default.Equals(_value, other._value));

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Optional<T> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HasValue ? HashCode.Combine(true, _value) : 0;

    /// <summary>The value's text, <c>null</c>, or <c>(absent)</c>.</summary>
    public override string ToString() => !HasValue ? "(absent)" : _value?.ToString() ?? "null";
}

/// <summary>Helpers for <see cref="Optional{T}"/>.</summary>
public static class Optional
{
    /// <summary>Makes a present value; useful where the implicit conversion does not apply (for example with <c>var</c>).</summary>
    /// <typeparam name="T">The type of the value.</typeparam>
    /// <param name="value">The value, possibly <see langword="null"/>.</param>
    public static Optional<T> Of<T>(T value) => new(value);
}
