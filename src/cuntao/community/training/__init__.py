"""Digital-literacy training (数字素养培训): courses, enrolment, sessions, attendance,
assessment, signed certificates and the training funnel."""
