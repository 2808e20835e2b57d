# A first image: the app on Python 3.11 with its dependencies. Production hardening (gunicorn,
# whitenoise, a non-root user) comes with the deployment work.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY registry registry
COPY people people
COPY agreements agreements
COPY labs labs
COPY backoffice backoffice
RUN pip install --no-cache-dir -e .
COPY . .
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --no-input && python manage.py runserver 0.0.0.0:8000"]
