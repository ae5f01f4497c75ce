"""Operations: inspect executions, group failures, replay failed bookings (schedctl and /ops)."""
