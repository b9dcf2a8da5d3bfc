"""The prediction models moved to the predictions app: removed from this app's state only, the
tables and their data stay (kehu/predictions/migrations/0001_initial.py takes them over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('segments', '0003_predictions'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='churnlevelchange',
                    name='segments_ch_custome_8b00f6_idx',
                ),
                migrations.RemoveField(
                    model_name='customerprediction',
                    name='customer',
                ),
                migrations.DeleteModel(
                    name='PredictionFit',
                ),
                migrations.DeleteModel(
                    name='PredictionSettings',
                ),
                migrations.RemoveField(
                    model_name='churnlevelchange',
                    name='customer',
                ),
                migrations.DeleteModel(
                    name='CustomerPrediction',
                ),
                migrations.DeleteModel(
                    name='ChurnLevelChange',
                ),
            ],
            database_operations=[],
        ),
    ]
